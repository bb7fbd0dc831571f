//! The command line: `lint FILE`, `explain FILE --url URL`, `to-squid FILE [-o OUT]`.
//! Diagnostics, explanations and fragments go to stdout; usage errors, notes and I/O errors to
//! stderr. Exit codes: 0 success, 1 usage (bad arguments, a URL that is not absolute), 2 lint
//! errors, or a file that cannot be read, is not a policy, or cannot be written.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::ast::Policy;
use crate::diagnostic::{count, render_report};
use crate::explain::explain;
use crate::lint::lint;
use crate::parser::parse;
use crate::to_squid::to_squid;

pub const USAGE: &str = "usage: cpl lint FILE
       cpl explain FILE --url URL
       cpl to-squid FILE [-o OUT]";

pub const EXIT_OK: i32 = 0;
pub const EXIT_USAGE: i32 = 1;
pub const EXIT_FAILED: i32 = 2;

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Help,
    Lint {
        file: PathBuf,
    },
    Explain {
        file: PathBuf,
        url: String,
    },
    ToSquid {
        file: PathBuf,
        output: Option<PathBuf>,
    },
}

/// Runs one command; `args` start with the subcommand (`lint`, `explain`, `to-squid`).
/// Prints to stdout and stderr and returns the exit code.
pub fn run_cli(args: &[String]) -> i32 {
    run_cli_with(args, &mut io::stdout().lock(), &mut io::stderr().lock())
}

/// [`run_cli`] writing to the given streams.
pub fn run_cli_with(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let command = match parse_args(args) {
        Ok(command) => command,
        Err(message) => {
            let _ = writeln!(err, "error: {message}\n{USAGE}");
            return EXIT_USAGE;
        }
    };
    let file = match &command {
        Command::Help => {
            let _ = writeln!(out, "{USAGE}");
            return EXIT_OK;
        }
        Command::Lint { file } | Command::Explain { file, .. } | Command::ToSquid { file, .. } => {
            file
        }
    };
    let policy = match load(file, err) {
        Ok(policy) => policy,
        Err(code) => return code,
    };
    match command {
        Command::Help => EXIT_OK,
        Command::Lint { .. } => {
            let diagnostics = lint(&policy);
            let report = render_report(&diagnostics, &policy.source, &policy.file_name);
            let _ = write!(out, "{report}");
            if diagnostics.iter().any(|d| d.is_error()) {
                EXIT_FAILED
            } else {
                EXIT_OK
            }
        }
        Command::Explain { url, .. } => match explain(&policy, &url) {
            Ok(explanation) => {
                let _ = write!(out, "{explanation}");
                EXIT_OK
            }
            Err(invalid) => {
                let _ = writeln!(err, "error: {invalid}");
                EXIT_USAGE
            }
        },
        Command::ToSquid { output, .. } => translate(&policy, output, out, err),
    }
}

fn translate(
    policy: &Policy,
    output: Option<PathBuf>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let translation = to_squid(policy);
    let errors = lint(policy).iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        let _ = writeln!(
            err,
            "warning: `lint` reports {} in {}; the fragment reproduces what the policy does, faults included",
            count(errors, "error"),
            policy.file_name
        );
    }
    for item in &translation.untranslated {
        let _ = writeln!(err, "note: not translated: {item}");
    }
    let Some(path) = output else {
        let _ = write!(out, "{}", translation.fragment);
        return EXIT_OK;
    };
    match std::fs::write(&path, &translation.fragment) {
        Ok(()) => {
            let _ = writeln!(err, "wrote {}", path.display());
            EXIT_OK
        }
        Err(error) => {
            let _ = writeln!(err, "error: cannot write {}: {error}", path.display());
            EXIT_FAILED
        }
    }
}

fn parse_args(args: &[String]) -> Result<Command, String> {
    let mut words = args.iter().map(String::as_str);
    let subcommand = words.next().ok_or("no command given")?;
    if matches!(subcommand, "-h" | "--help" | "help") {
        return Ok(Command::Help);
    }
    let mut file = None;
    let mut url = None;
    let mut output = None;
    while let Some(word) = words.next() {
        match word {
            "--url" if subcommand == "explain" => {
                url = Some(words.next().ok_or("--url needs a URL")?.to_owned());
            }
            "-o" | "--output" if subcommand == "to-squid" => {
                output = Some(PathBuf::from(words.next().ok_or("-o needs a file")?));
            }
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(format!("unknown option {flag:?} for {subcommand}"));
            }
            path if file.is_none() => file = Some(PathBuf::from(path)),
            extra => return Err(format!("unexpected argument {extra:?}")),
        }
    }
    let file = || {
        file.clone()
            .ok_or_else(|| format!("{subcommand} needs a FILE"))
    };
    match subcommand {
        "lint" => Ok(Command::Lint { file: file()? }),
        "explain" => Ok(Command::Explain {
            file: file()?,
            url: url.ok_or("explain needs --url URL")?,
        }),
        "to-squid" => Ok(Command::ToSquid {
            file: file()?,
            output,
        }),
        other => Err(format!("unknown command {other:?}")),
    }
}

/// Reads and parses `file`; a file that cannot be read or is not a policy is reported on
/// `err`, and the exit code returned.
fn load(file: &Path, err: &mut dyn Write) -> Result<Policy, i32> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|error| {
        let _ = writeln!(err, "error: cannot read {name}: {error}");
        EXIT_FAILED
    })?;
    let Ok(source) = String::from_utf8(bytes) else {
        let _ = writeln!(err, "error: {name} is not UTF-8 text (a binary file?)");
        return Err(EXIT_FAILED);
    };
    parse(&source, &name).map_err(|diagnostics| {
        let _ = write!(err, "{}", render_report(&diagnostics, &source, &name));
        EXIT_FAILED
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn commands_and_their_arguments() {
        assert_eq!(
            parse_args(&args(&["explain", "--url", "https://a/", "p.cpl"])),
            Ok(Command::Explain {
                file: "p.cpl".into(),
                url: "https://a/".into()
            })
        );
        assert_eq!(
            parse_args(&args(&["to-squid", "p.cpl", "-o", "out.conf"])),
            Ok(Command::ToSquid {
                file: "p.cpl".into(),
                output: Some("out.conf".into())
            })
        );
        for bad in [
            &["lint"][..],
            &["explain", "p.cpl"],
            &["lint", "a", "b"],
            &["lint", "-o", "x"],
            &[],
            &["frob"],
        ] {
            assert!(parse_args(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn exit_codes_for_usage_unreadable_and_binary_files() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        assert_eq!(
            run_cli_with(&args(&["lint"]), &mut out, &mut err),
            EXIT_USAGE
        );
        assert_eq!(
            run_cli_with(&args(&["lint", "/nonexistent/p.cpl"]), &mut out, &mut err),
            EXIT_FAILED
        );
        let dir = std::env::temp_dir().join(format!("cpl-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("binary.cpl");
        std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x41]).unwrap();
        let mut err = Vec::new();
        let code = run_cli_with(
            &args(&["lint", binary.to_str().unwrap()]),
            &mut out,
            &mut err,
        );
        assert_eq!(code, EXIT_FAILED);
        assert!(String::from_utf8_lossy(&err).contains("not UTF-8"));
        let empty = dir.join("empty.cpl");
        std::fs::write(&empty, "").unwrap();
        let mut err = Vec::new();
        let code = run_cli_with(
            &args(&["explain", empty.to_str().unwrap(), "--url", "http://a/"]),
            &mut out,
            &mut err,
        );
        assert_eq!(code, EXIT_FAILED);
        assert!(String::from_utf8_lossy(&err).contains("empty"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
