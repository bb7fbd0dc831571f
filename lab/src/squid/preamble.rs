//! The lab preamble: the Squid configuration the lab owns (port with ssl-bump, Basic auth,
//! ICAP services, the categorisation helper, host resolution, memory cache, evidence log),
//! followed by the policy, then the epilogue that re-asserts what the evidence needs.

/// Where the lab's files live inside the proxy container.
pub const LAB_DIR: &str = "/etc/squid/lab";
pub const LOG_DIR: &str = "/var/log/squid-lab";
pub const PROXY_PORT: u16 = 3128;
/// The `lab_categorize` external ACL helper (Perl: the image has perl-base, no curl), installed
/// in [`LAB_DIR`] under [`CATEGORIZE_HELPER_NAME`].
pub const CATEGORIZE_HELPER_SCRIPT: &str = include_str!("../../helpers/lab_categorize.pl");
pub const CATEGORIZE_HELPER_NAME: &str = "lab_categorize";

/// What the preamble needs to know about the rest of the lab.
pub struct PreambleInputs {
    pub icap_port: u16,
    /// The harness's categorisation service (on the host, through the host gateway).
    pub categorizer_port: u16,
}

/// The full `squid.conf`: preamble, then `include` of the policy.
pub fn render(inputs: &PreambleInputs) -> String {
    let PreambleInputs {
        icap_port,
        categorizer_port,
    } = inputs;
    format!(
        r#"# proxy-conformance lab preamble: owned by the lab, a policy must not redefine it.
http_port {PROXY_PORT} ssl-bump tls-cert={LAB_DIR}/interception-ca.pem tls-key={LAB_DIR}/interception-ca.key generate-host-certificates=on dynamic_cert_mem_cache_size=4MB
sslcrtd_program /usr/lib/squid/security_file_certgen -s /var/lib/squid-lab/ssl_db -M 4MB
sslcrtd_children 4 startup=1 idle=1
tls_outgoing_options cafile={LAB_DIR}/origin-ca.pem

auth_param basic program /usr/lib/squid/basic_ncsa_auth {LAB_DIR}/htpasswd
auth_param basic children 4 startup=1 idle=1
auth_param basic realm proxy-conformance lab

icap_enable on
icap_send_client_ip on
icap_service lab_reqmod reqmod_precache icap://host.docker.internal:{icap_port}/reqmod bypass=off
icap_service lab_respmod respmod_precache icap://host.docker.internal:{icap_port}/respmod bypass=off

# Categorisation: asks the harness's service about the destination host for every request
# (ttl=0 negative_ttl=0: measured, Squid 5.7 then caches no verdict); the scenario header
# keys verdicts per scenario. The helper bounds each lookup (3 s) and answers BH on failure:
# Squid retries twice, then denies the request (a categoriser outage fails closed).
external_acl_type lab_categorize ttl=0 negative_ttl=0 children-max=8 children-startup=2 children-idle=1 %DST %>ha{{X-Conformance-Scenario}} {LAB_DIR}/{CATEGORIZE_HELPER_NAME} host.docker.internal:{categorizer_port}

hosts_file {LAB_DIR}/hosts
dns_nameservers 127.0.0.1
dns_timeout 2 seconds

cache_mem 64 MB
maximum_object_size_in_memory 8 MB
memory_cache_mode always
# Read up to 1 MB ahead of the client (default 16 KB): multi-GiB downloads otherwise crawl
# through the lab in 16 KB steps.
read_ahead_gap 1 MB

logformat lab_evidence {EVIDENCE_FORMAT}
access_log stdio:{LOG_DIR}/access.log lab_evidence
buffered_logs off
cache_log stdio:{LOG_DIR}/cache.log
pid_filename /run/squid-lab/squid.pid
coredump_dir /var/spool/squid
shutdown_lifetime 1 second
visible_hostname proxy-under-test

# The policy under test follows.
include {LAB_DIR}/policy.conf
{EPILOGUE}"#
    )
}

/// The full `squid.conf` for a whole configuration: the lab's defaults the admin's may
/// override (memory cache, read-ahead), the lab's credentials when it authenticates, the
/// admin's configuration as mapped ([`super::whole::WHOLE_CONF`]), then the lab's plumbing and
/// evidence settings, which come last so that they win.
pub fn render_whole(whole: &super::whole::WholeConfig) -> String {
    let header = whole.header().join("\n");
    let extra = whole.epilogue().join("\n");
    let whole_conf = super::whole::WHOLE_CONF;
    format!(
        r#"# proxy-conformance lab: a whole configuration, mapped (the admin's values of these win).
cache_mem 64 MB
maximum_object_size_in_memory 8 MB
memory_cache_mode always
read_ahead_gap 1 MB
visible_hostname proxy-under-test
{header}

# The admin's configuration, mapped onto the lab.
include {whole_conf}

# proxy-conformance lab: its plumbing and evidence, after the admin's configuration.
{extra}
sslcrtd_program /usr/lib/squid/security_file_certgen -s /var/lib/squid-lab/ssl_db -M 4MB
tls_outgoing_options cafile={LAB_DIR}/origin-ca.pem
hosts_file {LAB_DIR}/hosts
dns_nameservers 127.0.0.1
dns_timeout 2 seconds
logformat lab_evidence {EVIDENCE_FORMAT}
access_log stdio:{LOG_DIR}/access.log lab_evidence
cache_log stdio:{LOG_DIR}/cache.log
pid_filename /run/squid-lab/squid.pid
coredump_dir /var/spool/squid
shutdown_lifetime 1 second
{EPILOGUE}"#
    )
}

/// The lab's evidence log format (what [`super::log`] reads).
const EVIDENCE_FORMAT: &str = "%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt bump=%ssl::bump_mode sni=%ssl::>sni range=\"%{Range}>h\" content_range=\"%{Content-Range}<h\" adapt=\"%adapt::all_trs\" err=%err_code/%err_detail scenario=%{X-Conformance-Scenario}>h";

/// What the lab re-asserts after the policy: settings a pasted production tail may carry that
/// would change what the lab observes, overridden rather than rejected (each is a legitimate
/// choice for a production proxy, and the last value wins in Squid). `buffered_logs on` would
/// hold access-log lines back past the steps' grace period; `log_mime_hdrs on` would append
/// header dumps to the evidence lines; a quieter `debug_options` would hide the ready line in
/// cache.log. Directives that would unplug an instrument (`access_log`, `cache_log`,
/// `logformat` …) are rejected instead ([`super::policy::LAB_OWNED`]); `strip_query_terms`,
/// `logfile_rotate`, `client_db` and `via` change nothing the lab reads and stay the policy's.
pub(crate) const EPILOGUE: &str = "
# proxy-conformance lab epilogue: re-asserted after the policy, for the lab's evidence.
buffered_logs off
log_mime_hdrs off
debug_options ALL,1
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_re_asserts_its_evidence_settings_after_the_policy() {
        let conf = render(&PreambleInputs {
            icap_port: 1344,
            categorizer_port: 8344,
        });
        let include = conf.find("include /etc/squid/lab/policy.conf").unwrap();
        for directive in [
            "buffered_logs off",
            "log_mime_hdrs off",
            "debug_options ALL,1",
        ] {
            let last = conf.rfind(directive).unwrap();
            assert!(last > include, "{directive} must come after the policy");
        }
    }
}
