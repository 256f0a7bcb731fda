//! A bound on how deeply an option's value nests, checked on the parsed file before its
//! options are resolved.
//!
//! prost-reflect resolves an aggregate option value (`[(rule) = {a: {b: …}}]`) by a
//! recursive parse, which overflows the stack a few thousand levels deep, and reading the
//! options of a descriptor panics on a value more than 100 messages deep. Real options
//! nest a handful of levels (validate rules: three).

use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto, UninterpretedOption};

/// Deepest nesting of an option's value: the parts of its name (`(a).b.c` is three) plus
/// the brackets of its aggregate value.
pub const MAX_OPTION_DEPTH: usize = 32;

/// An option whose value nests deeper than [`MAX_OPTION_DEPTH`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{file}{}: option `{option}` nests {depth} levels deep; at most {MAX_OPTION_DEPTH} are allowed",
    position.map(|(line, column)| format!(":{line}:{column}")).unwrap_or_default()
)]
pub struct OptionTooDeep {
    /// The file, as the user knows it.
    pub file: String,
    pub position: Option<(usize, usize)>,
    pub option: String,
    pub depth: usize,
}

/// The first option of `file` that nests too deeply; `file_name` names the file in it.
pub fn check(file: &FileDescriptorProto, file_name: &str) -> Result<(), OptionTooDeep> {
    let mut found: Option<(Vec<i32>, String, usize)> = None;
    let mut visit = |path: Vec<i32>, options: &[UninterpretedOption]| {
        for (index, option) in options.iter().enumerate() {
            let depth = depth_of(option);
            if depth > MAX_OPTION_DEPTH && found.is_none() {
                let mut path = path.clone();
                path.extend([UNINTERPRETED_OPTION, index as i32]);
                found = Some((path, option_name(option), depth));
            }
        }
    };
    visit(vec![8], uninterpreted(&file.options));
    for (i, message) in file.message_type.iter().enumerate() {
        visit_message(&mut visit, vec![4, i as i32], message);
    }
    for (i, enumeration) in file.enum_type.iter().enumerate() {
        visit_enum(&mut visit, vec![5, i as i32], enumeration);
    }
    for (i, service) in file.service.iter().enumerate() {
        visit(vec![6, i as i32, 3], uninterpreted(&service.options));
        for (j, method) in service.method.iter().enumerate() {
            visit(
                vec![6, i as i32, 2, j as i32, 4],
                uninterpreted(&method.options),
            );
        }
    }
    for (i, extension) in file.extension.iter().enumerate() {
        visit(vec![7, i as i32, 8], uninterpreted(&extension.options));
    }
    let Some((path, option, depth)) = found else {
        return Ok(());
    };
    let position = file
        .source_code_info
        .as_ref()
        .and_then(|info| info.location.iter().find(|location| location.path == path))
        .and_then(|location| Some((*location.span.first()? + 1, *location.span.get(1)? + 1)))
        .map(|(line, column)| (line as usize, column as usize));
    Err(OptionTooDeep {
        file: file_name.to_owned(),
        position,
        option,
        depth,
    })
}

/// `uninterpreted_option`'s field number in every `*Options` message.
const UNINTERPRETED_OPTION: i32 = 999;

/// The uninterpreted options of any `*Options` message.
trait Uninterpreted {
    fn list(&self) -> &[UninterpretedOption];
}

macro_rules! uninterpreted_of {
    ($($options:ident),*) => {$(
        impl Uninterpreted for prost_types::$options {
            fn list(&self) -> &[UninterpretedOption] {
                &self.uninterpreted_option
            }
        }
    )*};
}

uninterpreted_of!(
    FileOptions,
    MessageOptions,
    FieldOptions,
    OneofOptions,
    EnumOptions,
    EnumValueOptions,
    ServiceOptions,
    MethodOptions,
    ExtensionRangeOptions
);

fn uninterpreted<T: Uninterpreted>(options: &Option<T>) -> &[UninterpretedOption] {
    options
        .as_ref()
        .map(Uninterpreted::list)
        .unwrap_or_default()
}

/// Visits a message's options and those of everything declared in it (messages nest at
/// most 31 levels: protox's parser stops deeper ones).
fn visit_message(
    visit: &mut impl FnMut(Vec<i32>, &[UninterpretedOption]),
    path: Vec<i32>,
    message: &DescriptorProto,
) {
    let at = |tail: &[i32]| [path.as_slice(), tail].concat();
    visit(at(&[7]), uninterpreted(&message.options));
    for (i, field) in message.field.iter().enumerate() {
        visit(at(&[2, i as i32, 8]), uninterpreted(&field.options));
    }
    for (i, nested) in message.nested_type.iter().enumerate() {
        visit_message(visit, at(&[3, i as i32]), nested);
    }
    for (i, enumeration) in message.enum_type.iter().enumerate() {
        visit_enum(visit, at(&[4, i as i32]), enumeration);
    }
    for (i, range) in message.extension_range.iter().enumerate() {
        visit(at(&[5, i as i32, 3]), uninterpreted(&range.options));
    }
    for (i, extension) in message.extension.iter().enumerate() {
        visit(at(&[6, i as i32, 8]), uninterpreted(&extension.options));
    }
    for (i, oneof) in message.oneof_decl.iter().enumerate() {
        visit(at(&[8, i as i32, 2]), uninterpreted(&oneof.options));
    }
}

fn visit_enum(
    visit: &mut impl FnMut(Vec<i32>, &[UninterpretedOption]),
    path: Vec<i32>,
    enumeration: &EnumDescriptorProto,
) {
    let at = |tail: &[i32]| [path.as_slice(), tail].concat();
    visit(at(&[3]), uninterpreted(&enumeration.options));
    for (i, value) in enumeration.value.iter().enumerate() {
        visit(at(&[2, i as i32, 3]), uninterpreted(&value.options));
    }
}

fn depth_of(option: &UninterpretedOption) -> usize {
    option.name.len() + option.aggregate_value.as_deref().map_or(0, bracket_depth)
}

/// How deeply the brackets of a text-format value nest, strings aside.
fn bracket_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '{' | '<' | '[' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                '}' | '>' | ']' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    deepest
}

fn option_name(option: &UninterpretedOption) -> String {
    let parts: Vec<String> = option
        .name
        .iter()
        .map(|part| {
            if part.is_extension {
                format!("({})", part.name_part)
            } else {
                part.name_part.clone()
            }
        })
        .collect();
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_brackets_outside_strings() {
        assert_eq!(bracket_depth("{a: {b: [1, 2]}}"), 3);
        assert_eq!(bracket_depth("{a: \"{{{{\" b: '}}}'}"), 1);
        assert_eq!(bracket_depth("{a: \"\\\"{\"}"), 1);
        assert_eq!(bracket_depth("<a: <b: 1>>"), 2);
    }
}
