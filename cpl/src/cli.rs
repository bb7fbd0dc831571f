//! The `cpl` subcommands as a clap [`Subcommand`] the project's one binary embeds as
//! `proxy-conformance cpl <lint|explain|to-squid>`, and [`run_command`], which runs one and
//! reports how it went as a value: the crate never exits the process.
//!
//! Exit codes belong to the binary, which maps [`CplStatus::Clean`] to 0, usage errors (clap's
//! own) to 1, and [`CplStatus::Findings`] and every [`CplError`] to 2.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use thiserror::Error;

use crate::ast::Policy;
use crate::diagnostic::{count, render_report, Diagnostic};
use crate::explain::explain_request;
use crate::lint::{lint_with, LintOptions};
use crate::output::{to_json, to_sarif};
use crate::parser::parse;
use crate::request::{InvalidUrl, Request};
use crate::to_squid::to_squid;

/// ProxySG CPL tools: check a policy, trace one request through it, translate it for the lab.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum CplCommand {
    /// Report syntax errors, unknown names, unresolved references, layer misuse, dead rules
    /// and (when asked, or when the policy bypasses update hosts) Windows Update coverage.
    Lint(LintArgs),
    /// Trace how the policy treats one request: every rule matched, missed or not applicable,
    /// and every property that ends up set.
    Explain(ExplainArgs),
    /// Translate the policy into a Squid fragment under the lab contract, listing every
    /// construct it cannot carry over.
    ToSquid(ToSquidArgs),
}

/// What `lint` checks and how it reports.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct LintArgs {
    /// The CPL policy file.
    pub file: PathBuf,
    /// Also require that the policy bypasses every Windows Update host (`windows-update`).
    #[arg(long = "require", value_enum)]
    pub require: Vec<Requirement>,
    /// Treat warnings as findings (status `Findings`, exit 2 in the binary).
    #[arg(long)]
    pub deny_warnings: bool,
    /// Output format: `text` for people, `json`, or `sarif` for code-scanning views.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// A requirement `lint --require` adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Requirement {
    /// Every Windows Update host of the article gets every bypass property.
    WindowsUpdate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ExplainArgs {
    /// The CPL policy file.
    pub file: PathBuf,
    /// The request to trace: an absolute URL (`https://` means a TLS connection).
    #[arg(long)]
    pub url: String,
    /// The request's method (GET, HEAD, POST …); without it, `method=` triggers are undecided.
    #[arg(long)]
    pub method: Option<String>,
    /// A request header, `NAME: VALUE`; repeatable. With any, the request's headers are
    /// known (`request.header.…=` triggers are decided); without, they are undecided.
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = header)]
    pub headers: Vec<(String, String)>,
    /// A response header, `NAME: VALUE` (e.g. `Content-Type: application/octet-stream`);
    /// repeatable, as for --header.
    #[arg(long = "response-header", value_name = "NAME: VALUE", value_parser = header)]
    pub response_headers: Vec<(String, String)>,
}

/// `NAME: VALUE`.
fn header(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() && !name.contains(' ') => {
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(format!(
            "`{text}` is not a header: write `NAME: VALUE`, e.g. `User-Agent: Microsoft BITS/7.8`"
        )),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ToSquidArgs {
    /// The CPL policy file.
    pub file: PathBuf,
    /// Write the fragment here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// How a command that ran to the end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CplStatus {
    /// Nothing to report (lint: no errors, and no warnings under `--deny-warnings`).
    Clean,
    /// Lint found errors, or warnings under `--deny-warnings`.
    Findings,
}

/// Why a command could not do its work.
#[derive(Debug, Error)]
pub enum CplError {
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not UTF-8 text (a binary file?)", path.display())]
    NotText { path: PathBuf },
    /// The file is not a policy at all; `report` holds the rendered diagnostics.
    #[error("{} is not a CPL policy:\n{report}", path.display())]
    Parse {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
        report: String,
    },
    #[error(transparent)]
    BadUrl(#[from] InvalidUrl),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
}

/// Runs `command`, writing results to `out` and notes to `err`.
pub fn run_command(
    command: &CplCommand,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<CplStatus, CplError> {
    match command {
        CplCommand::Lint(args) => run_lint(args, out),
        CplCommand::Explain(args) => {
            let policy = load(&args.file)?;
            let mut request = Request::parse(&args.url)?;
            if let Some(method) = &args.method {
                request = request.with_method(method);
            }
            for (name, value) in &args.headers {
                request = request.with_header(name, value);
            }
            for (name, value) in &args.response_headers {
                request = request.with_response_header(name, value);
            }
            let explanation = explain_request(&policy, &request);
            write!(out, "{explanation}").map_err(CplError::Output)?;
            Ok(CplStatus::Clean)
        }
        CplCommand::ToSquid(args) => run_to_squid(args, out, err),
    }
}

fn run_lint(args: &LintArgs, out: &mut dyn Write) -> Result<CplStatus, CplError> {
    let policy = load(&args.file)?;
    let options = LintOptions {
        require_windows_update: args.require.contains(&Requirement::WindowsUpdate),
    };
    let diagnostics = lint_with(&policy, &options);
    let text = match args.format {
        Format::Text => render_report(&diagnostics, &policy.source, &policy.file_name),
        Format::Json => to_json(&diagnostics),
        Format::Sarif => to_sarif(&diagnostics),
    };
    write!(out, "{text}").map_err(CplError::Output)?;
    let findings = diagnostics
        .iter()
        .any(|d| d.is_error() || args.deny_warnings);
    Ok(if findings {
        CplStatus::Findings
    } else {
        CplStatus::Clean
    })
}

fn run_to_squid(
    args: &ToSquidArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<CplStatus, CplError> {
    let policy = load(&args.file)?;
    let translation = to_squid(&policy);
    let errors = lint_with(&policy, &LintOptions::default())
        .iter()
        .filter(|d| d.is_error())
        .count();
    let mut notes = String::new();
    if errors > 0 {
        notes.push_str(&format!(
            "warning: `lint` reports {} in {}; the fragment reproduces what the policy does, faults included\n",
            count(errors, "error"),
            policy.file_name
        ));
    }
    for item in &translation.untranslated {
        notes.push_str(&format!("note: not translated: {item}\n"));
    }
    if translation.may_change_update_properties() {
        notes.push_str(
            "warning: what is not translated could change how Windows Update hosts are treated; a lab run of this fragment is inconclusive\n",
        );
        for risk in &translation.update_host_risks {
            notes.push_str(&format!("  {risk}\n"));
        }
    }
    err.write_all(notes.as_bytes()).map_err(CplError::Output)?;
    match &args.output {
        None => out
            .write_all(translation.fragment.as_bytes())
            .map_err(CplError::Output)?,
        Some(path) => {
            std::fs::write(path, &translation.fragment).map_err(|source| CplError::Write {
                path: path.clone(),
                source,
            })?;
            writeln!(err, "wrote {}", path.display()).map_err(CplError::Output)?;
        }
    }
    Ok(CplStatus::Clean)
}

/// Reads and parses `file`.
pub fn load(file: &Path) -> Result<Policy, CplError> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|source| CplError::Unreadable {
        path: file.to_owned(),
        source,
    })?;
    let Ok(source) = String::from_utf8(bytes) else {
        return Err(CplError::NotText {
            path: file.to_owned(),
        });
    };
    parse(&source, &name).map_err(|diagnostics| CplError::Parse {
        path: file.to_owned(),
        report: render_report(&diagnostics, &source, &name),
        diagnostics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: CplCommand,
    }

    fn parse_args(words: &[&str]) -> Result<CplCommand, clap::Error> {
        Cli::try_parse_from(std::iter::once("cpl").chain(words.iter().copied()))
            .map(|cli| cli.command)
    }

    #[test]
    fn commands_and_their_arguments() {
        assert_eq!(
            parse_args(&["explain", "--url", "https://a/", "p.cpl"]).unwrap(),
            CplCommand::Explain(ExplainArgs {
                file: "p.cpl".into(),
                url: "https://a/".into(),
                method: None,
                headers: Vec::new(),
                response_headers: Vec::new(),
            })
        );
        assert_eq!(
            parse_args(&[
                "lint",
                "p.cpl",
                "--require",
                "windows-update",
                "--format",
                "sarif"
            ])
            .unwrap(),
            CplCommand::Lint(LintArgs {
                file: "p.cpl".into(),
                require: vec![Requirement::WindowsUpdate],
                deny_warnings: false,
                format: Format::Sarif,
            })
        );
        assert_eq!(
            parse_args(&[
                "explain",
                "p.cpl",
                "--url",
                "http://a/x.cab",
                "--method",
                "HEAD",
                "--header",
                "User-Agent: Microsoft BITS/7.8",
                "--response-header",
                "Content-Type:application/octet-stream",
            ])
            .unwrap(),
            CplCommand::Explain(ExplainArgs {
                file: "p.cpl".into(),
                url: "http://a/x.cab".into(),
                method: Some("HEAD".into()),
                headers: vec![("User-Agent".into(), "Microsoft BITS/7.8".into())],
                response_headers: vec![("Content-Type".into(), "application/octet-stream".into())],
            })
        );
        for bad in [
            &[
                "explain",
                "p.cpl",
                "--url",
                "http://a/",
                "--header",
                "no colon",
            ][..],
            &[
                "explain",
                "p.cpl",
                "--url",
                "http://a/",
                "--header",
                ": empty",
            ],
            &["lint"][..],
            &["explain", "p.cpl"],
            &["lint", "a", "b"],
            &["lint", "-o", "x"],
            &["frob"],
        ] {
            assert!(parse_args(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unreadable_binary_and_empty_files_are_typed_errors() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let missing = parse_args(&["lint", "/nonexistent/p.cpl"]).unwrap();
        assert!(matches!(
            run_command(&missing, &mut out, &mut err),
            Err(CplError::Unreadable { .. })
        ));
        let dir = std::env::temp_dir().join(format!("cpl-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("binary.cpl");
        std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x41]).unwrap();
        let command = parse_args(&["lint", binary.to_str().unwrap()]).unwrap();
        assert!(matches!(
            run_command(&command, &mut out, &mut err),
            Err(CplError::NotText { .. })
        ));
        let empty = dir.join("empty.cpl");
        std::fs::write(&empty, "").unwrap();
        let command =
            parse_args(&["explain", empty.to_str().unwrap(), "--url", "http://a/"]).unwrap();
        let error = run_command(&command, &mut out, &mut err).unwrap_err();
        assert!(error.to_string().contains("empty"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
