//! Paths to a value inside a configuration: `server.bind.port`, `hosts[2]`, `labels["a"]`.

use std::fmt;

/// One step from a message to a value inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A field, by its proto name (`min_size`) and its JSON name (`minSize`).
    Field { name: String, json_name: String },
    /// An item of a repeated field.
    Index(usize),
    /// The value under a key of a map field, the key rendered as in YAML.
    Key(String),
}

/// A path from the configuration message to one value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    pub fn root() -> Self {
        Self::default()
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// This path followed by `segment`.
    pub fn join(&self, segment: Segment) -> Self {
        let mut segments = self.0.clone();
        segments.push(segment);
        Self(segments)
    }

    pub fn field(&self, field: &prost_reflect::FieldDescriptor) -> Self {
        self.join(Segment::Field {
            name: field.name().to_owned(),
            json_name: field.json_name().to_owned(),
        })
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Field { name, .. } if i == 0 => f.write_str(name)?,
                Segment::Field { name, .. } => write!(f, ".{name}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) => write!(f, "[{key:?}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> Segment {
        Segment::Field {
            name: name.into(),
            json_name: name.into(),
        }
    }

    #[test]
    fn displays_like_the_yaml_reads() {
        let path = FieldPath(vec![field("server"), field("hosts"), Segment::Index(2)]);
        assert_eq!(path.to_string(), "server.hosts[2]");
        let path = FieldPath(vec![
            field("labels"),
            Segment::Key("a b".into()),
            field("x"),
        ]);
        assert_eq!(path.to_string(), "labels[\"a b\"].x");
        assert_eq!(FieldPath::root().to_string(), "(root)");
    }
}
