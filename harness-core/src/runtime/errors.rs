//! Why a service stopped with an error, and the one-line form of any error.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::PathBuf;

use super::wire::{BoxError, WireError};
use super::wiring::StartError;
use crate::config::ConfigError;

/// Why the configuration could not be turned into the service's `Configuration`.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("the service's embedded descriptors are invalid: {0}")]
    Descriptors(#[source] prost_reflect::DescriptorError),
    #[error("the service's descriptors have no message {0}")]
    NoMessage(&'static str),
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{}: {source}", .path.display())]
    Decode {
        path: PathBuf,
        #[source]
        source: prost::DecodeError,
    },
}

/// Why a service stopped with an error. Its `Display` is the line the runner prints after
/// `error: `.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] io::Error),
    #[error("cannot listen for signals: {0}")]
    Signals(#[source] io::Error),
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("{0}")]
    Start(#[from] StartError),
    #[error("setup failed: {}", ErrorChain(&**.0))]
    Setup(#[source] BoxError),
    /// `setup` panicked; `unconfigured` names the optional input wires that were `None`,
    /// the usual cause (an `.expect()` on a wire whose field is not marked required).
    #[error("setup panicked: {message}{}", unconfigured_hint(.unconfigured))]
    SetupPanicked {
        message: String,
        unconfigured: Vec<&'static str>,
    },
    #[error("output wire `{wire}`: {error}")]
    Output {
        wire: &'static str,
        #[source]
        error: WireError,
    },
}

fn unconfigured_hint(unconfigured: &[&'static str]) -> String {
    if unconfigured.is_empty() {
        return String::new();
    }
    let names: Vec<String> = unconfigured.iter().map(|n| format!("`{n}`")).collect();
    format!(
        " (not configured: the optional input wire {}; a field without \
         `(validate.rules).message.required = true` is optional, and `harness check` accepts a \
         configuration without it)",
        names.join(", ")
    )
}

/// An error and its sources on one line, `a: b: c`, skipping a source whose text its
/// parent already shows.
pub struct ErrorChain<'a>(pub &'a (dyn StdError + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.to_string();
        f.write_str(&shown)?;
        let mut next = self.0.source();
        while let Some(source) = next {
            let text = source.to_string();
            if !shown.contains(&text) {
                write!(f, ": {text}")?;
                shown = text;
            }
            next = source.source();
        }
        Ok(())
    }
}

/// The message of a caught panic (`panic!("…")`, `.expect("…")`), or a placeholder.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] io::Error);

    #[test]
    fn a_chain_shows_each_source_once() {
        let error = Outer(io::Error::other("inner"));
        assert_eq!(ErrorChain(&error).to_string(), "outer: inner");
        let error = io::Error::other("only");
        assert_eq!(ErrorChain(&error).to_string(), "only");
    }

    #[test]
    fn a_setup_panic_names_the_unconfigured_optional_wires() {
        let error = RunError::SetupPanicked {
            message: "called `Option::unwrap()` on a `None` value".into(),
            unconfigured: vec!["db"],
        };
        let text = error.to_string();
        assert!(
            text.starts_with("setup panicked: called `Option::unwrap()`"),
            "{text}"
        );
        assert!(text.contains("the optional input wire `db`"), "{text}");
        assert!(text.contains("message.required = true"), "{text}");
    }

    #[test]
    fn panic_messages() {
        let caught = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(panic_message(&*caught), "boom 1");
        let caught = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(&*caught), "static");
    }
}
