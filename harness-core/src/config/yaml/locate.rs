//! Positions of paths in a YAML text, found by reading its events again on the error path
//! only: a configuration that loads fine keeps no positions.
//!
//! Every wanted path is found in one pass over the text, in memory proportional to the
//! nesting, not to the document.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span};

use super::{Position, Step};

/// Where the value at `path` starts in `text`; `None` when the path is not in it.
pub fn position_of(text: &str, path: &[Step]) -> Option<Position> {
    positions_of(text, &[path]).pop().flatten()
}

/// [`position_of`] for several paths at once, in one reading of `text`.
///
/// A path that goes through an alias stops at the alias: the position is the alias's.
pub fn positions_of(text: &str, paths: &[&[Step]]) -> Vec<Option<Position>> {
    let tree = Tree::new(paths);
    let mut found = vec![None; paths.len()];
    // Each open collection: its tree node (`None` when off every wanted path) and where
    // its reading is.
    let mut stack: Vec<(Option<usize>, Cursor)> = Vec::new();
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else { break };
        let opens = match &event {
            Event::Scalar(key, ..) => {
                if let Some((_, cursor @ Cursor::Key)) = stack.last_mut() {
                    *cursor = Cursor::Value(key.to_string());
                    continue;
                }
                None
            }
            Event::SequenceStart(..) => Some(Cursor::Index(0)),
            Event::MappingStart(..) => Some(Cursor::Key),
            Event::Alias(_) => None,
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                advance(&mut stack);
                continue;
            }
            _ => continue,
        };
        let node = tree.child(&stack);
        tree.mark(node, &span, &mut found);
        if let Event::Alias(_) = event {
            tree.mark_below(node, &span, &mut found);
        }
        match opens {
            Some(cursor) => stack.push((node, cursor)),
            None => advance(&mut stack),
        }
        if found.iter().all(Option::is_some) {
            break;
        }
    }
    found
}

/// Where a collection is in its reading.
enum Cursor {
    /// At item `n` of a list.
    Index(usize),
    /// Waiting for a mapping key.
    Key,
    /// At the value of this key.
    Value(String),
}

/// After a value is read: the next item of a list, or the next key of a mapping.
fn advance(stack: &mut [(Option<usize>, Cursor)]) {
    if let Some((_, cursor)) = stack.last_mut() {
        *cursor = match cursor {
            Cursor::Index(n) => Cursor::Index(*n + 1),
            // A list or mapping used as a key (an error, but positions are still found):
            // its value comes next.
            Cursor::Key => Cursor::Value(String::new()),
            Cursor::Value(_) => Cursor::Key,
        };
    }
}

/// The wanted paths as a tree: each node knows the paths that end at it.
struct Tree {
    nodes: Vec<TreeNode>,
}

#[derive(Default)]
struct TreeNode {
    children: HashMap<Token, usize>,
    /// Indexes of the paths ending here.
    ends: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Token {
    Key(String),
    Index(usize),
}

impl Tree {
    fn new(paths: &[&[Step]]) -> Self {
        let mut tree = Tree {
            nodes: vec![TreeNode::default()],
        };
        for (index, path) in paths.iter().enumerate() {
            let mut node = 0;
            for step in path.iter() {
                let tokens: Vec<Token> = match step {
                    Step::Key(names) => names.iter().cloned().map(Token::Key).collect(),
                    Step::Index(n) => vec![Token::Index(*n)],
                };
                // Either name of a key leads to the same node.
                let existing = tokens
                    .iter()
                    .find_map(|token| tree.nodes[node].children.get(token).copied());
                let next = existing.unwrap_or_else(|| {
                    tree.nodes.push(TreeNode::default());
                    tree.nodes.len() - 1
                });
                for token in tokens {
                    tree.nodes[node].children.entry(token).or_insert(next);
                }
                node = next;
            }
            tree.nodes[node].ends.push(index);
        }
        tree
    }

    /// The node of the value starting now, in the collection on top of `stack`.
    fn child(&self, stack: &[(Option<usize>, Cursor)]) -> Option<usize> {
        let Some((parent, cursor)) = stack.last() else {
            return Some(0);
        };
        let token = match cursor {
            Cursor::Index(n) => Token::Index(*n),
            Cursor::Value(key) => Token::Key(key.clone()),
            Cursor::Key => return None,
        };
        self.nodes[(*parent)?].children.get(&token).copied()
    }

    /// Records the position of every path ending at `node`, unless found before.
    fn mark(&self, node: Option<usize>, span: &Span, found: &mut [Option<Position>]) {
        let Some(node) = node else { return };
        for &path in &self.nodes[node].ends {
            found[path].get_or_insert(Position::of(span));
        }
    }

    /// Records `span` for every path below `node` (they go through an alias).
    fn mark_below(&self, node: Option<usize>, span: &Span, found: &mut [Option<Position>]) {
        let mut seen = vec![false; self.nodes.len()];
        let mut pending: Vec<usize> = node.into_iter().collect();
        while let Some(node) = pending.pop() {
            if std::mem::replace(&mut seen[node], true) {
                continue;
            }
            self.mark(Some(node), span, found);
            pending.extend(self.nodes[node].children.values().copied());
        }
    }
}
