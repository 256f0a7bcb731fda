//! `harness schema`: the JSON Schema of a service's configuration, on stdout.

use std::io::Write;
use std::process::ExitCode;

use super::ProtoArgs;

pub fn run(args: ProtoArgs) -> ExitCode {
    match crate::schema::json_schema_of_proto(&args.proto, &args.includes) {
        Ok(schema) => {
            let text = crate::schema::to_text(&schema);
            // A closed pipe is no reason to panic.
            let _ = std::io::stdout().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(err) => super::check::report(&err),
    }
}
