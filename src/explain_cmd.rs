//! `flow explain [CODE]`.

use crate::EXIT_USAGE;
use flow_compiler::Code;
use std::io::Write;

/// Prints one code's explanation, or the list of codes; returns the exit status.
pub fn run(code: Option<&str>) -> u8 {
    match code {
        None => {
            let mut out = String::new();
            for code in Code::ALL {
                out.push_str(&format!(
                    "{code}  {:<7}  {}\n",
                    code.severity().as_str(),
                    code.summary()
                ));
            }
            out.push_str("\nRun `flow explain CODE` for the long explanation of one.\n");
            // A closed pipe (`flow explain | head`) is not an error worth a panic.
            let _ = std::io::stdout().write_all(out.as_bytes());
            0
        }
        Some(text) => match text.parse::<Code>() {
            Ok(code) => {
                let _ = std::io::stdout().write_all(code.explanation().as_bytes());
                0
            }
            Err(()) => {
                let names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
                let hint = flow_compiler::suggest::closest(&text.to_ascii_uppercase(), names.iter().copied())
                    .map(|c| format!(" (did you mean {c}?)"))
                    .unwrap_or_default();
                eprintln!("error: unknown diagnostic code `{text}`{hint}; `flow explain` lists them all");
                EXIT_USAGE
            }
        },
    }
}
