//! The proxy under test: Squid from the lab image with the preamble, the policy, the lab's
//! CAs and hosts file, the access log in a directory shared with the harness. Its
//! configuration is parsed first, so a policy Squid rejects is reported with Squid's words.

use std::time::Duration;

use anyhow::Context;
use testcontainers::core::{Host, IntoContainerPort, Mount};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, ContainerRequest, GenericImage, ImageExt};

use super::Squid;
use crate::backend::{ProxyBackend as _, ProxySetup, StartFailure, StartedProxy};
use crate::docker::LAB_LABEL;
use crate::readiness::{follow_until, Verdict};
use crate::squid::policy::Policy;
use crate::squid::preamble::{
    self, PreambleInputs, CATEGORIZE_HELPER_NAME, CATEGORIZE_HELPER_SCRIPT, LAB_DIR, LOG_DIR,
    PROXY_PORT,
};
use crate::squid::whole::{WholeConfig, STUB_HELPER_NAME, STUB_HELPER_SCRIPT, WHOLE_CONF};

/// The access log's file name in the shared log directory (the preamble's `access_log`).
const ACCESS_LOG: &str = "access.log";
pub(crate) const READY_LINE: &str = "Accepting SSL bumped HTTP Socket connections";
const PARSE_FAILED: &str = "LAB-PARSE-FAILED";

/// Prepares files (ownership, htpasswd, certificate db), lets Squid parse the configuration
/// and only then runs it in the foreground.
const ENTRYPOINT: &str = r#"exec 2>&1
set -u
L=/etc/squid/lab
perl -e 'print "$ARGV[0]:" . crypt($ARGV[1], "pc") . "\n"' "$LAB_USER" "$LAB_PASSWORD" > $L/htpasswd
# Squid resolves ICAP and helper hosts through the lab hosts file only: add the host gateway.
grep -w host.docker.internal /etc/hosts >> $L/hosts
mkdir -p /var/spool/squid /run/squid-lab /var/lib/squid-lab
chown root:proxy $L/* && chmod 0640 $L/*
chmod 0750 $L/lab_categorize
if [ -f $L/lab_stub_helper ]; then chmod 0750 $L/lab_stub_helper; fi
if [ -d /etc/squid/lab-files ]; then chown -R root:proxy /etc/squid/lab-files && chmod -R u=rwX,g=rX,o= /etc/squid/lab-files; fi
chown proxy:proxy /var/log/squid-lab /var/spool/squid /run/squid-lab /var/lib/squid-lab
/usr/lib/squid/security_file_certgen -c -s /var/lib/squid-lab/ssl_db -M 4MB >/dev/null
chown -R proxy:proxy /var/lib/squid-lab/ssl_db
if ! squid -k parse -f $L/squid.conf >/tmp/parse.log 2>&1 || grep -qE "${LAB_PARSE_REFUSES:-FATAL|ERROR|Bungled|unrecognized}" /tmp/parse.log; then
  echo LAB-PARSE-FAILED; grep -vE '^[0-9/]+ [0-9:]+\| (Processing|Startup|Initializing|Adding|Set Current|Service Name|Reconfiguring)' /tmp/parse.log; echo LAB-PARSE-END
  exec sleep 600
fi
grep -E 'ERROR' /tmp/parse.log | sed 's/^/LAB-PARSE-WARNING /'
echo LAB-PARSE-OK
exec squid -N -d1 -f $L/squid.conf
"#;

/// Starts `squid` under the lab preamble and the policy; see [`ProxyBackend::start`].
pub(super) async fn start(
    squid: &Squid,
    setup: ProxySetup<'_>,
) -> Result<StartedProxy, StartFailure> {
    let container = container_request(squid, &setup)
        .start()
        .await
        .context("starting the proxy container")?;
    let whole = setup.policy.whole();
    let warnings = await_ready(squid, &container, &setup).await?;
    if let (Some(whole), false) = (whole, warnings.is_empty()) {
        eprintln!(
            "squid-conf: Squid accepted the configuration with complaints (the proxy runs with them too):\n{}",
            whole_messages(&warnings.join("\n"), whole)
        );
    }
    let host_port = container
        .get_host_port_ipv4(PROXY_PORT)
        .await
        .map_err(anyhow::Error::from)?;
    let network_address = container
        .get_bridge_ip_address()
        .await
        .ok()
        .map(|ip| (ip, PROXY_PORT).into());
    Ok(StartedProxy {
        container,
        host_port,
        network_address,
        access_log: ACCESS_LOG,
    })
}

/// The proxy's container: the image, the lab's network, and every file the configuration
/// names (preamble and policy, or the mapped whole configuration with the files it carries).
fn container_request(squid: &Squid, setup: &ProxySetup<'_>) -> ContainerRequest<GenericImage> {
    let whole = setup.policy.whole();
    let conf = match whole {
        Some(whole) => preamble::render_whole(whole),
        None => preamble::render(&PreambleInputs {
            icap_port: setup.icap_port,
            categorizer_port: setup.categorizer_port,
        }),
    };
    let hosts: String = setup
        .host_names
        .iter()
        .map(|name| format!("{} {name}\n", setup.relay))
        .collect();
    let file = |name: &str| format!("{LAB_DIR}/{name}");
    let pki = setup.pki;
    let mut request = GenericImage::new(squid.image().name(), squid.image().tag())
        .with_exposed_port(PROXY_PORT.tcp())
        .with_network(setup.network)
        .with_container_name(format!("{}-proxy", setup.network))
        .with_label(LAB_LABEL, std::process::id().to_string())
        .with_host("host.docker.internal", Host::HostGateway)
        .with_env_var("LAB_USER", setup.user)
        .with_env_var("LAB_PASSWORD", setup.password)
        .with_copy_to(file("squid.conf"), conf.into_bytes())
        .with_copy_to(file("policy.conf"), setup.policy.text().as_bytes().to_vec())
        .with_copy_to(file("hosts"), hosts.into_bytes())
        .with_copy_to(
            file(CATEGORIZE_HELPER_NAME),
            CATEGORIZE_HELPER_SCRIPT.as_bytes().to_vec(),
        )
        .with_copy_to(
            file("interception-ca.pem"),
            pki.interception_ca.cert_pem().as_bytes().to_vec(),
        )
        .with_copy_to(
            file("interception-ca.key"),
            pki.interception_ca.key_pem().as_bytes().to_vec(),
        )
        .with_copy_to(
            file("origin-ca.pem"),
            pki.origin_ca.cert_pem().as_bytes().to_vec(),
        )
        .with_mount(Mount::bind_mount(setup.log_dir.to_string_lossy(), LOG_DIR))
        .with_cmd(["bash", "-c", ENTRYPOINT]);
    if let Some(whole) = whole {
        // A production configuration runs with what Squid only complains about (an
        // obsolete directive): the lab runs it too, and shows the complaint.
        request = request
            .with_env_var("LAB_PARSE_REFUSES", "FATAL|Bungled|unrecognized")
            .with_copy_to(
                WHOLE_CONF,
                whole
                    .generated(setup.icap_port, setup.categorizer_port)
                    .into_bytes(),
            )
            .with_copy_to(
                file(STUB_HELPER_NAME),
                STUB_HELPER_SCRIPT.as_bytes().to_vec(),
            );
        for carried in whole.carried() {
            request = request.with_copy_to(carried.container_path.clone(), carried.bytes.clone());
        }
    }
    request
}

/// Follows the proxy's output until it accepts connections; returns what Squid complained
/// about while parsing. A configuration Squid refuses is [`StartFailure::PolicyRejected`] in
/// Squid's words, at the user's file and line.
async fn await_ready(
    squid: &Squid,
    container: &ContainerAsync<GenericImage>,
    setup: &ProxySetup<'_>,
) -> Result<Vec<String>, StartFailure> {
    let whole = setup.policy.whole();
    let mut parse_failed = false;
    let mut warnings = Vec::new();
    let outcome = follow_until(container, squid.name(), Duration::from_secs(30), |line| {
        if line.contains(PARSE_FAILED) {
            parse_failed = true;
        }
        if let Some(warning) = line.split_once("LAB-PARSE-WARNING ").map(|(_, w)| w) {
            warnings.push(warning.to_owned());
        }
        if parse_failed && line.contains("LAB-PARSE-END") {
            Verdict::Failed
        } else if line.contains(READY_LINE) || (whole.is_some() && listening(line)) {
            Verdict::Ready
        } else if line.contains("FATAL")
            || (line.contains("Squid Cache (Version") && line.contains("Terminated abnormally"))
        {
            Verdict::Failed
        } else {
            Verdict::Continue
        }
    })
    .await;
    let Err(error) = outcome else {
        return Ok(warnings);
    };
    let policy = setup.policy;
    if let (Some(whole), true) = (whole, parse_failed) {
        return Err(StartFailure::PolicyRejected(format!(
            "{} rejected the configuration {}:\n{}",
            squid.name(),
            policy.path().display(),
            whole_messages(&error.to_string(), whole)
        )));
    }
    let text = error.to_string().replace(
        &format!("{LAB_DIR}/policy.conf"),
        &policy.path().display().to_string(),
    );
    if parse_failed {
        return Err(StartFailure::PolicyRejected(format!(
            "{} rejected the policy {}:\n{}",
            squid.name(),
            policy.path().display(),
            squid_messages(&text, policy)
        )));
    }
    Err(StartFailure::Failed(anyhow::anyhow!("{text}")))
}

/// Squid's own words about the policy: the lines naming the policy file (with the offending
/// line of the user's file quoted under them) and the fatal ones, without timestamps and the
/// lab's markers; everything Squid said when none of those is there.
fn squid_messages(text: &str, policy: &Policy) -> String {
    let shown_path = policy.path().display().to_string();
    let source: Vec<&str> = policy.text().lines().collect();
    let strip_time = |line: &str| match line.split_once("| ") {
        Some((stamp, rest)) if stamp.starts_with(|c: char| c.is_ascii_digit()) => rest.to_owned(),
        _ => line.to_owned(),
    };
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.contains("LAB-PARSE") && !l.trim().is_empty())
        .map(strip_time)
        .collect();
    let mut relevant = Vec::new();
    for line in &lines {
        let about_policy = line.contains(&shown_path);
        if !(about_policy
            || line.contains("FATAL")
            || line.contains("ERROR")
            || line.contains("Bungled"))
        {
            continue;
        }
        relevant.push(format!("  {line}"));
        if let Some(number) = about_policy
            .then(|| policy_line(line, &shown_path))
            .flatten()
        {
            if let Some(code) = source.get(number.saturating_sub(1)) {
                relevant.push(format!("  {number:>4} | {code}"));
            }
        }
    }
    if relevant.is_empty() {
        relevant = lines.iter().map(|l| format!("  {l}")).collect();
    }
    relevant.dedup();
    relevant.join("\n")
}

/// The line number in `path(N)` or `path line N`, as Squid writes them.
fn policy_line(message: &str, path: &str) -> Option<usize> {
    let rest = &message[message.find(path)? + path.len()..];
    let digits: String = rest
        .trim_start_matches(['(', ' '])
        .trim_start_matches("line ")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Whether `line` is Squid saying it accepts connections on the lab's listener, bumped or
/// plain (a whole configuration's listener need not bump).
fn listening(line: &str) -> bool {
    line.contains("Accepting")
        && line.contains("Socket connections")
        && line.contains(&format!(":{PROXY_PORT} "))
}

/// Squid's words about a whole configuration: each mention of a line of the generated
/// configuration becomes the user's file and line, with the user's line quoted (and the line
/// the lab ran, when it differs); the carried files are named as on the user's machine.
fn whole_messages(text: &str, whole: &WholeConfig) -> String {
    let strip_time = |line: &str| match line.split_once("| ") {
        Some((stamp, rest)) if stamp.starts_with(|c: char| c.is_ascii_digit()) => rest.to_owned(),
        _ => line.to_owned(),
    };
    let mut relevant = Vec::new();
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.contains("LAB-PARSE") && !l.trim().is_empty())
        .map(strip_time)
        .collect();
    for line in &lines {
        let mut shown = line.clone();
        for carried in whole.carried() {
            shown = shown.replace(
                &carried.container_path,
                &crate::display_path(&carried.read_from),
            );
        }
        // Squid names no line for some refusals ("Unknown http_port option 'foo=bar'"): the
        // line is then the first one holding the quoted word.
        let named = policy_line(line, WHOLE_CONF);
        let number = named.or_else(|| {
            (line.contains("FATAL") || line.contains("ERROR"))
                .then(|| whole.line_holding(quoted_word(line)?))
                .flatten()
        });
        let origin = number.and_then(|n| whole.origin_of(n));
        if let (None, Some((file, user_line, _))) = (named, &origin) {
            shown.push_str(&format!(" (at {file}({user_line}))"));
        }
        if let (Some(number), Some((file, user_line, _))) = (number, &origin) {
            for written in [
                format!("{WHOLE_CONF}({number})"),
                format!("{WHOLE_CONF} line {number}"),
            ] {
                shown = shown.replace(&written, &format!("{file}({user_line})"));
            }
        }
        let about_user = origin.is_some();
        if !(about_user
            || line.contains("FATAL")
            || line.contains("ERROR")
            || line.contains("Bungled"))
        {
            continue;
        }
        relevant.push(format!("  {shown}"));
        if let (Some(number), Some((_, user_line, code))) = (number, origin) {
            relevant.push(format!("  {user_line:>4} | {code}"));
            if let Some(ran) = whole.mapped_line(number) {
                relevant.push(format!("       (the lab ran it as: {ran})"));
            }
        }
    }
    if relevant.is_empty() {
        relevant = lines.iter().map(|l| format!("  {l}")).collect();
    }
    relevant.dedup();
    relevant.join("\n")
}

/// The word between the first pair of single quotes of a message.
fn quoted_word(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once('\'')?;
    let (word, _) = rest.split_once('\'')?;
    (!word.trim().is_empty()).then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::squid::whole::WholeOptions;

    #[test]
    fn squids_words_about_a_whole_configuration_name_the_users_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        std::fs::write(
            dir.path().join("squid.conf"),
            "include conf.d/*.conf\nhttp_port 3128 ssl-bump tls-cert=/x.pem foo=bar\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("conf.d/rules.conf"),
            "acl wu dstdomain .update.microsoft.com\nhttp_acess allow wu\n",
        )
        .unwrap();
        let whole =
            WholeConfig::load(&dir.path().join("squid.conf"), &WholeOptions::default()).unwrap();
        let said = "LAB-PARSE-FAILED\n\
            2026/12/07 18:21:10| /etc/squid/lab/whole.conf(3): unrecognized: 'http_acess'\n\
            2026/12/07 18:21:10| FATAL: Unknown http_port option 'foo=bar'.\n\
            LAB-PARSE-END\n";
        let shown = whole_messages(said, &whole);
        assert!(
            shown.contains("conf.d/rules.conf(2): unrecognized: 'http_acess'"),
            "{shown}"
        );
        assert!(shown.contains("   2 | http_acess allow wu"), "{shown}");
        assert!(
            shown.contains("FATAL: Unknown http_port option 'foo=bar'. (at "),
            "{shown}"
        );
        assert!(
            shown.contains("   2 | http_port 3128 ssl-bump tls-cert=/x.pem foo=bar"),
            "{shown}"
        );
        assert!(
            shown.contains("(the lab ran it as: http_port 3128 ssl-bump foo=bar tls-cert=/etc/squid/lab/interception-ca.pem"),
            "{shown}"
        );
        assert!(!shown.contains("/etc/squid/lab/whole.conf"), "{shown}");
    }
}
