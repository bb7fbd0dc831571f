//! The mutation self-test as `cargo test`: the reference policy passes and every faulty policy
//! in `policies/squid/mutants/` is caught by exactly the properties it declares (the same check
//! as `proxy-conformance selftest`). Then every `Then` step of `steps/src/` must have a proof
//! that it can fail: a mutant seen failing at it, or a named unit test of its predicate. The
//! per-step table it prints is the README's. The faulty policies run again on Squid 6: each
//! must be caught on both bundled versions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use conformance_harness::{run_selftest, SelftestOptions, SelftestReport};
use conformance_lab::{ProxyBackend as _, SQUID_6};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Then steps no single-fault Squid policy trips first (an earlier step of the same scenario
/// fails, or Squid cannot commit the fault), each with the unit test that feeds its predicate
/// synthetic observations that make it fail.
const UNIT_PROOFS: &[(&str, &str)] = &[
    (
        "the origin saw only the requests the client sent",
        "a_prefetched_object_is_reported",
    ),
    (
        "no response came from the proxy's cache",
        "a_conditional_request_the_client_did_not_send_is_a_revalidation",
    ),
    (
        "the proxy did not read the client's TLS ClientHello",
        "neutral_facts_of_squid_statuses",
    ),
    (
        "the origin received the agent's whole SOAP request",
        "a_truncated_or_missing_soap_body_fails",
    ),
    (
        "the origin received every client's URL once",
        "a_url_served_from_cache_or_fetched_twice_is_not_fetched_once",
    ),
    (
        "no client was answered from another client's download",
        "another_clients_token_or_none_is_not_this_clients_answer",
    ),
    (
        "the client learned the size and ETag with HEAD first",
        "a_head_without_the_files_size_or_a_get_first_fails",
    ),
    (
        "the origin sent at most {size} for that request",
        "a_widened_range_costs_more_than_asked_and_fails",
    ),
    (
        "the origin sent no more bytes than each range asked for",
        "a_widened_range_costs_more_than_asked_and_fails",
    ),
    (
        "the harness's memory grew by less than {size} during the download",
        "a_download_held_in_memory_or_never_sampled_fails",
    ),
    (
        "the client received the origin's reply verbatim",
        "a_short_altered_or_empty_echo_is_not_verbatim",
    ),
    (
        "the origin received {int} request(s) for that {resource}",
        "a_request_count_other_than_expected_fails",
    ),
    (
        "the proxy did not ask for credentials",
        "a_challenge_a_user_a_leaked_credential_or_no_request_fails",
    ),
    (
        "the proxy denied the request",
        "a_response_from_the_origin_or_a_redirect_to_its_own_host_is_not_a_denial",
    ),
    (
        "the proxy asked for credentials",
        "a_challenge_of_any_scheme_counts_and_a_bare_407_or_other_status_does_not",
    ),
    (
        "the ICAP service adapted that {resource}",
        "reqmod_or_respmod_alone_is_adaptation_and_nothing_is_not",
    ),
    (
        "the proxy accepted the tunnel but the origin never received those bytes",
        "bytes_through_an_uninspected_tunnel_or_a_refused_connect_show_no_detection",
    ),
    ("TLS handshake$", "another_stacks_hello_or_none_fails"),
    (
        "^the proxy logged (a tunnel|a decrypted request) to that host$",
        "a_decrypted_request_or_no_tunnel_fails",
    ),
    (
        "it receives status 200 announcing the whole file",
        "an_error_page_a_cut_length_or_corrupt_head_is_not_the_whole_file",
    ),
    (
        "the client received the origin's greeting before it sent a byte",
        "a_greeting_held_back_altered_or_not_the_origins_fails",
    ),
    (
        "the origin answered every hop of the redirect itself",
        "a_redirect_not_from_the_origin_or_a_hop_missing_fails",
    ),
    (
        "^the certificate the client saw was issued by",
        "a_leaf_not_the_origins_or_not_chaining_to_the_interception_ca_fails",
    ),
];

/// Then steps with no proof yet: listed so the debt is visible in every run (the table says
/// "**none yet**"), and so a new step cannot join them unnoticed. Each needs its predicate
/// extracted into a pure function with a failing unit test, or a mutant that trips it first.
const KNOWN_UNPROVEN: &[&str] = &[];

/// A `#[then(…)]` step definition: file, line and its expression.
struct ThenStep {
    file: String,
    line: usize,
    expression: String,
}

fn then_steps() -> Vec<ThenStep> {
    let mut steps = Vec::new();
    let dir = Path::new(ROOT).join("steps/src");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("steps/src")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let file = format!("steps/src/{}", path.file_name().unwrap().to_string_lossy());
        for (index, line) in text.lines().enumerate() {
            if let Some(rest) = line.trim().strip_prefix("#[then(") {
                let expression = rest
                    .trim_end_matches(")]")
                    .trim_start_matches("expr = ")
                    .trim_start_matches("regex = r")
                    .trim_matches('"')
                    .to_owned();
                steps.push(ThenStep {
                    file: file.clone(),
                    line: index + 1,
                    expression,
                });
            }
        }
    }
    steps
}

/// Whether a unit test of that name exists in the workspace's sources.
fn unit_test_exists(name: &str) -> bool {
    let needle = format!("fn {name}(");
    [
        "steps/src",
        "harness/src",
        "lab/src/squid",
        "client/src",
        "mock-servers/src",
    ]
    .iter()
    .flat_map(|dir| {
        std::fs::read_dir(Path::new(ROOT).join(dir))
            .into_iter()
            .flatten()
    })
    .flatten()
    .any(|entry| std::fs::read_to_string(entry.path()).is_ok_and(|text| text.contains(&needle)))
}

/// The per-step proof table; the steps without any proof.
fn step_proofs(report: &SelftestReport) -> (String, Vec<String>) {
    let mut by_definition: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for verdict in &report.verdicts {
        for definition in &verdict.failed_steps {
            by_definition
                .entry(definition.as_str())
                .or_default()
                .insert(verdict.mutant.name.as_str());
        }
    }
    let mut table = String::from("| Then step | proof that it can fail |\n|---|---|\n");
    let mut unproven = Vec::new();
    for step in then_steps() {
        // cucumber locates a step at its function, a line or two below the attribute.
        let mutants: BTreeSet<&str> = (step.line..=step.line + 3)
            .filter_map(|line| by_definition.get(format!("{}:{line}", step.file).as_str()))
            .flatten()
            .copied()
            .collect();
        let unit = UNIT_PROOFS
            .iter()
            .find(|(words, _)| step.expression.contains(words))
            .map(|(_, test)| *test)
            .filter(|test| unit_test_exists(test));
        let proof = match (mutants.is_empty(), unit) {
            (false, Some(test)) => format!(
                "mutants: {}; unit test `{test}`",
                mutants.into_iter().collect::<Vec<_>>().join(", ")
            ),
            (false, None) => format!(
                "mutants: {}",
                mutants.into_iter().collect::<Vec<_>>().join(", ")
            ),
            (true, Some(test)) => format!("unit test `{test}`"),
            (true, None) if KNOWN_UNPROVEN.contains(&step.expression.as_str()) => {
                "**none yet** (known debt)".to_owned()
            }
            (true, None) => {
                unproven.push(format!("{}:{} {}", step.file, step.line, step.expression));
                "**none**".to_owned()
            }
        };
        table.push_str(&format!("| `{}` | {proof} |\n", step.expression));
    }
    (table, unproven)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = SelftestOptions {
        progress: true,
        ..SelftestOptions::default()
    };
    let report = match run_selftest(options).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("mutants: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", report.render());
    let (table, unproven) = step_proofs(&report);
    println!("\nEvery Then step and its proof:\n\n{table}");
    for step in &unproven {
        println!("no proof that this step can fail: {step}");
    }
    // The policy faults again on the second bundled version: a fault must be caught whatever
    // Squid runs it (the correct policies' styles are version-independent Squid syntax and
    // run on the default version only, to keep CI within its time).
    let on_squid_6 = SelftestOptions {
        progress: true,
        correct: None,
        backend: &SQUID_6,
        ..SelftestOptions::default()
    };
    let squid_6 = match run_selftest(on_squid_6).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("mutants on Squid 6: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "\nThe policy faults on {}:\n{}",
        SQUID_6.name(),
        squid_6.render()
    );
    if report.passed() && squid_6.passed() && unproven.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
