//! A whole `squid.conf`, as an admin has it, mapped onto the lab: every rule the admin wrote is
//! kept, and what belongs to the lab (listener, credentials, ICAP services, the URL-filter
//! helper, disk cache, logs, TLS plumbing, files on the admin's machine) is pointed at the
//! lab's own. Each change is listed with why; what cannot be mapped is listed with the
//! properties whose evidence depends on it, which the run then calls inconclusive, never
//! passed.

mod helpers;
mod mapping;
mod source;
mod table;

use std::fmt;
use std::path::{Path, PathBuf};

use conformance_model::Property;

use source::Source;

/// Where the generated configuration sits in the proxy container (the lab's `squid.conf`
/// includes it between the lab's header and epilogue).
pub const WHOLE_CONF: &str = "/etc/squid/lab/whole.conf";
/// Where the files ACLs name are carried to.
pub const CARRIED_DIR: &str = "/etc/squid/lab-files";
/// The stand-in for helpers the lab cannot run, installed in the lab's folder under
/// [`STUB_HELPER_NAME`].
pub const STUB_HELPER_NAME: &str = "lab_stub_helper";
pub const STUB_HELPER_SCRIPT: &str = include_str!("../../../helpers/lab_stub_helper.pl");
/// Placeholders the lab fills in once its services listen.
pub(crate) const ICAP_PORT: &str = "@ICAP_PORT@";
pub(crate) const CATEGORIZER_PORT: &str = "@CATEGORIZER_PORT@";

/// How to read a whole configuration.
#[derive(Debug, Clone, Default)]
pub struct WholeOptions {
    /// The folder that stands for `/` when the configuration names absolute paths (a copy of
    /// the proxy's files); `/` when `None` (run on the proxy itself).
    pub root: Option<PathBuf>,
    /// The `external_acl_type` helpers the lab's categoriser answers for. `None`: every helper
    /// whose lookup names the destination (`%DST`, `%URI`, …).
    pub url_filters: Option<Vec<String>>,
    /// The `src` ACLs that name the proxy's clients: the lab's client networks are added to
    /// them. `None`: `localnet`.
    pub client_acls: Option<Vec<String>>,
}

/// Why a whole configuration could not be mapped (a file it names cannot be read, an option
/// names a helper it does not define).
#[derive(Debug, Clone, thiserror::Error)]
pub struct WholeConfError {
    /// `file:line` of the line that names what went wrong, when there is one.
    pub at: Option<String>,
    pub message: String,
}

impl WholeConfError {
    pub(crate) fn at(at: Option<String>, message: String) -> Self {
        Self { at, message }
    }
}

impl fmt::Display for WholeConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// One directive the lab changed or replaced, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `file:line` in the user's configuration.
    pub at: String,
    /// The directive as the admin wrote it.
    pub directive: String,
    /// What the lab runs instead.
    pub became: String,
    pub why: String,
}

/// Something the lab could not map, and the properties whose evidence depends on it: a pass
/// of one of them is reported inconclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingLimit {
    pub at: String,
    pub directive: String,
    /// What the lab did instead, and what that means for the verdict.
    pub consequence: String,
    pub properties: Vec<Property>,
}

/// A file carried into the proxy container from the user's machine.
#[derive(Debug, Clone)]
pub struct CarriedFile {
    pub container_path: String,
    pub read_from: PathBuf,
    pub bytes: Vec<u8>,
}

/// A whole configuration, read and mapped onto the lab.
#[derive(Debug, Clone)]
pub struct WholeConfig {
    source: Source,
    /// One generated line per line read, in order ([`WHOLE_CONF`]).
    generated: Vec<String>,
    changes: Vec<Change>,
    limits: Vec<MappingLimit>,
    carried: Vec<CarriedFile>,
    /// What the lab adds after the admin's configuration (a listener when it has none, the
    /// memory cache that replaces its disk cache).
    epilogue: Vec<String>,
    /// What the lab adds before it (the lab's credentials when it authenticates).
    header: Vec<String>,
}

impl WholeConfig {
    /// Reads `main` with everything it includes and the files its ACLs name, and maps it.
    pub fn load(main: &Path, options: &WholeOptions) -> Result<Self, WholeConfError> {
        let root = options.root.as_deref().unwrap_or(Path::new("/"));
        let source = Source::read(main, root)?;
        if source.lines.iter().all(|l| l.directive.is_none()) {
            return Err(WholeConfError::at(
                None,
                format!("{} has no directive", main.display()),
            ));
        }
        if let Some(error) = fragment_hint(&source) {
            return Err(error);
        }
        let mapped = mapping::map(&source, options)?;
        Ok(Self {
            generated: mapped.generated,
            changes: mapped.changes,
            limits: mapped.limits,
            carried: mapped.carried,
            epilogue: mapped.epilogue,
            header: mapped.header,
            source,
        })
    }

    /// The generated configuration, the lab's ports filled in.
    pub fn generated(&self, icap_port: u16, categorizer_port: u16) -> String {
        let fill = |line: &String| {
            line.replace(ICAP_PORT, &icap_port.to_string())
                .replace(CATEGORIZER_PORT, &categorizer_port.to_string())
        };
        self.generated.iter().map(|l| fill(l) + "\n").collect()
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    pub fn epilogue(&self) -> &[String] {
        &self.epilogue
    }

    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    pub fn limits(&self) -> &[MappingLimit] {
        &self.limits
    }

    pub fn carried(&self) -> &[CarriedFile] {
        &self.carried
    }

    /// Every file of the configuration read (the main file first).
    pub fn files(&self) -> &[PathBuf] {
        &self.source.files
    }

    /// The user's file and line, and the line as the user wrote it, of line `number` of
    /// [`WHOLE_CONF`].
    pub fn origin_of(&self, number: usize) -> Option<(String, usize, &str)> {
        let line = self.source.lines.get(number.checked_sub(1)?)?;
        Some((
            crate::display_path(self.source.file_of(line.origin)),
            line.origin.line,
            line.raw.as_str(),
        ))
    }

    /// The number of the first line of [`WHOLE_CONF`] that holds `word` as a word of a
    /// directive (for Squid's messages that quote a word but name no line).
    pub fn line_holding(&self, word: &str) -> Option<usize> {
        self.source
            .lines
            .iter()
            .position(|l| {
                l.directive
                    .as_deref()
                    .is_some_and(|d| d.split_whitespace().any(|w| w == word))
            })
            .map(|index| index + 1)
    }

    /// The line the lab runs in place of line `number`, when it differs from the user's.
    pub fn mapped_line(&self, number: usize) -> Option<&str> {
        let index = number.checked_sub(1)?;
        let generated = self.generated.get(index)?;
        (generated != &self.source.lines.get(index)?.raw).then_some(generated.as_str())
    }

    /// The table printed before the run: every directive changed or replaced and why, then
    /// what could not be mapped with its consequence for each property.
    pub fn table(&self) -> String {
        table::render(self)
    }
}

/// A fragment written against the lab contract, given as a whole configuration: it uses the
/// lab's service and helper names without defining them.
fn fragment_hint(source: &Source) -> Option<WholeConfError> {
    const CONTRACT_NAMES: &[&str] = &["lab_reqmod", "lab_respmod", "lab_categorize"];
    let defines = |name: &str| {
        source.lines.iter().any(|l| {
            let mut words = l.directive.as_deref().unwrap_or("").split_whitespace();
            matches!(
                words.next(),
                Some("icap_service" | "ecap_service" | "external_acl_type")
            ) && words.next() == Some(name)
        })
    };
    source.lines.iter().find_map(|line| {
        let directive = line.directive.as_deref()?;
        let name = directive
            .split_whitespace()
            .find(|w| CONTRACT_NAMES.contains(w) && !defines(w))?;
        Some(WholeConfError::at(
            Some(source.locate(line.origin)),
            format!(
                "`{name}` is a name of the lab contract, not defined here: this is a policy fragment; run it with --policy"
            ),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRODUCTION: &str = "\
http_port 10.1.1.1:8080 ssl-bump tls-cert=/etc/squid/ca.pem tls-key=/etc/squid/ca.key
http_port 3129 tproxy
auth_param negotiate program /usr/lib/squid/negotiate_kerberos_auth
auth_param basic program /usr/lib/squid/basic_ldap_auth -b dc=corp
auth_param basic children 5
icap_service av respmod_precache 0 icaps://av.corp:11344/scan tls-cafile=/x
ecap_service gz respmod_precache ecap://e-cap.org/ecap/services/gzip
adaptation_service_set scanners av gz
external_acl_type wf ttl=60 %DST /opt/wf/lookup
external_acl_type grp %LOGIN /usr/lib/squid/ext_ldap_group_acl
external_acl_type hours %SRC /usr/local/bin/office-hours
acl blocked external wf adult
acl staff external grp Internet
acl open external hours
acl wu dstdomain .update.microsoft.com
ssl_bump splice wu
ssl_bump splice open
ssl_bump bump all
url_rewrite_program /usr/local/bin/jesred
cache_peer parent.corp parent 3128 0 no-query
never_direct allow all
cache_dir ufs /var/spool/squid 100 16 256
access_log daemon:/var/log/squid/access.log squid
http_access allow wu
";

    fn mapped(text: &str, options: &WholeOptions) -> WholeConfig {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("squid.conf");
        std::fs::write(&path, text).unwrap();
        WholeConfig::load(&path, options).unwrap()
    }

    #[test]
    fn the_labs_parts_are_pointed_at_the_lab_and_every_rule_is_kept() {
        let whole = mapped(PRODUCTION, &WholeOptions::default());
        let generated = whole.generated(1344, 8344);
        let lines: Vec<&str> = generated.lines().collect();
        assert_eq!(
            lines.len(),
            PRODUCTION.lines().count(),
            "one line per line read"
        );
        assert!(
            lines[0]
                .starts_with("http_port 3128 ssl-bump tls-cert=/etc/squid/lab/interception-ca.pem"),
            "{}",
            lines[0]
        );
        assert!(!lines[0].contains("/etc/squid/ca.key"));
        assert_eq!(lines[1], "http_port 3129 intercept");
        assert!(
            lines[2].starts_with('#') && lines[3].starts_with('#') && lines[4].starts_with('#')
        );
        assert!(whole
            .header()
            .iter()
            .any(|l| l.starts_with("auth_param basic program /usr/lib/squid/basic_ncsa_auth")));
        assert_eq!(
            lines[5],
            "icap_service av respmod_precache icap://host.docker.internal:1344/respmod?service=av bypass=off"
        );
        assert_eq!(
            lines[6],
            "icap_service gz respmod_precache icap://host.docker.internal:1344/respmod?service=gz bypass=off"
        );
        assert_eq!(lines[7], "adaptation_service_set scanners av gz");
        assert!(
            lines[8].contains("external_acl_type wf ttl=0 negative_ttl=0")
                && lines[8].ends_with("/etc/squid/lab/lab_categorize host.docker.internal:8344"),
            "{}",
            lines[8]
        );
        assert!(
            lines[9].ends_with("%LOGIN /etc/squid/lab/lab_stub_helper OK"),
            "{}",
            lines[9]
        );
        assert!(
            lines[10].ends_with("%SRC /etc/squid/lab/lab_stub_helper ERR"),
            "{}",
            lines[10]
        );
        let written: Vec<&str> = PRODUCTION.lines().collect();
        assert_eq!(lines[11..=17], written[11..=17], "rules kept as written");
        assert_eq!(
            lines[18],
            "url_rewrite_program /etc/squid/lab/lab_stub_helper ERR"
        );
        assert!(
            lines[19..=22].iter().all(|l| l.starts_with("# [lab]")),
            "{:?}",
            &lines[19..=22]
        );
        assert_eq!(lines[23], "http_access allow wu");
        assert!(whole
            .epilogue()
            .contains(&"memory_cache_mode always".to_owned()));
        assert_eq!(whole.mapped_line(24), None);
        assert_eq!(whole.origin_of(2).unwrap().1, 2);
    }

    #[test]
    fn what_cannot_be_mapped_names_the_properties_its_rules_decide() {
        let whole = mapped(PRODUCTION, &WholeOptions::default());
        let limit = |directive: &str| {
            whole
                .limits()
                .iter()
                .find(|l| l.directive.starts_with(directive))
                .unwrap_or_else(|| panic!("no limit for {directive}: {:?}", whole.limits()))
                .clone()
        };
        assert_eq!(
            limit("external_acl_type hours").properties,
            [Property::Tls, Property::Protocol]
        );
        assert!(limit("external_acl_type hours")
            .at
            .ends_with("squid.conf:11"));
        assert_eq!(
            limit("url_rewrite_program").properties,
            [Property::Categorize, Property::Integrity]
        );
        assert_eq!(limit("cache_peer").properties, Property::ALL);
        assert_eq!(whole.limits().len(), 3, "{:?}", whole.limits());
        let table = whole.table();
        assert!(table.contains("not mapped"), "{table}");
        assert!(
            table.contains("inconclusive unless failed: @tls @protocol"),
            "{table}"
        );
    }

    #[test]
    fn the_user_names_the_url_filter_and_a_helper_it_does_not_define_is_refused() {
        let named = WholeOptions {
            url_filters: Some(vec!["hours".to_owned()]),
            ..WholeOptions::default()
        };
        let whole = mapped(PRODUCTION, &named);
        let generated = whole.generated(1, 2);
        let lines: Vec<&str> = generated.lines().collect();
        assert!(lines[10].contains("lab_categorize"), "{}", lines[10]);
        assert!(lines[8].contains("lab_stub_helper ERR"), "{}", lines[8]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("squid.conf");
        std::fs::write(&path, PRODUCTION).unwrap();
        let unknown = WholeOptions {
            url_filters: Some(vec!["webfilter".to_owned()]),
            ..WholeOptions::default()
        };
        let error = WholeConfig::load(&path, &unknown).unwrap_err().to_string();
        assert!(
            error.contains("no external_acl_type webfilter") && error.contains("wf, grp, hours"),
            "{error}"
        );
    }

    #[test]
    fn acl_files_are_carried_under_their_own_name_and_a_plain_listener_is_added_when_none() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("wu.txt"), ".update.microsoft.com\n").unwrap();
        let path = dir.path().join("squid.conf");
        std::fs::write(
            &path,
            "acl wu dstdomain -i \"wu.txt\" # the list\nhttp_access allow wu\nacl admins proxy_auth alice bob\nacl more dstdomain .a \\\n  \"wu.txt\"\n",
        )
        .unwrap();
        let whole = WholeConfig::load(&path, &WholeOptions::default()).unwrap();
        assert_eq!(whole.carried().len(), 1);
        assert_eq!(
            whole.carried()[0].container_path,
            "/etc/squid/lab-files/1-wu.txt"
        );
        assert!(whole
            .generated(1, 2)
            .starts_with("acl wu dstdomain -i \"/etc/squid/lab-files/1-wu.txt\""));
        assert_eq!(whole.epilogue(), ["http_port 3128"]);
        let note = whole
            .changes()
            .iter()
            .find(|c| c.directive.starts_with("acl admins"))
            .expect("a note on an ACL naming users");
        assert!(note.why.contains("`conformance`"), "{}", note.why);
        let generated = whole.generated(1, 2);
        let lines: Vec<&str> = generated.lines().collect();
        assert_eq!(
            lines[3..],
            [
                "acl more dstdomain .a \"/etc/squid/lab-files/1-wu.txt\"",
                "# [lab] (continued) \"wu.txt\""
            ]
        );
    }

    #[test]
    fn a_tls_listener_is_the_labs_plain_listener_and_an_accelerator_keeps_a_certificate() {
        let whole = mapped(
            "https_port 3130 tls-cert=/etc/squid/proxy.pem\nhttps_port 443 accel defaultsite=www.corp cert=/etc/squid/www.pem\n",
            &WholeOptions::default(),
        );
        let generated = whole.generated(1, 2);
        let lines: Vec<&str> = generated.lines().collect();
        assert_eq!(lines[0], "http_port 3128");
        assert_eq!(
            lines[1],
            "https_port 3129 accel defaultsite=www.corp tls-cert=/etc/squid/lab/interception-ca.pem tls-key=/etc/squid/lab/interception-ca.key"
        );
        assert!(whole.changes()[0].why.contains("plain HTTP"));
    }

    #[test]
    fn squidguard_is_the_url_filter_asked_through_the_labs_categoriser() {
        let text = "http_port 3128\nurl_rewrite_program /usr/bin/squidGuard -c /etc/squidguard/squidGuard.conf\nurl_rewrite_access deny all\n";
        let whole = mapped(text, &WholeOptions::default());
        let generated = whole.generated(1, 8344);
        assert_eq!(
            generated.lines().nth(1).unwrap(),
            "url_rewrite_program /etc/squid/lab/lab_categorize --rewriter host.docker.internal:8344"
        );
        assert!(whole.limits().is_empty(), "{:?}", whole.limits());
        assert!(whole
            .epilogue()
            .contains(&"url_rewrite_extras \"%>ha{X-Conformance-Scenario}\"".to_owned()));
        // Named otherwise, it is a rewriter the lab cannot run.
        let other = WholeOptions {
            url_filters: Some(vec![]),
            ..WholeOptions::default()
        };
        let whole = mapped(text, &other);
        assert_eq!(whole.limits().len(), 1);
        assert_eq!(
            whole.limits()[0].properties,
            [Property::Categorize, Property::Integrity]
        );
    }

    #[test]
    fn the_labs_client_networks_join_the_acl_naming_the_clients_once() {
        let text = "acl localnet src 10.0.0.0/8\nacl localnet src 192.168.0.0/16\nacl guests src 10.99.0.0/16\nhttp_access allow localnet\n";
        let whole = mapped(text, &WholeOptions::default());
        let generated = whole.generated(1, 2);
        let lines: Vec<&str> = generated.lines().collect();
        assert_eq!(lines[0], "acl localnet src 10.0.0.0/8 172.16.0.0/12");
        assert_eq!(lines[1], "acl localnet src 192.168.0.0/16");
        assert_eq!(lines[2], "acl guests src 10.99.0.0/16");
        let named = WholeOptions {
            client_acls: Some(vec!["guests".to_owned()]),
            ..WholeOptions::default()
        };
        let generated = mapped(text, &named).generated(1, 2);
        let lines: Vec<&str> = generated.lines().collect();
        assert_eq!(lines[0], "acl localnet src 10.0.0.0/8");
        assert_eq!(
            lines[2],
            "acl guests src 10.99.0.0/16 172.16.0.0/12 192.168.0.0/16"
        );
    }

    #[test]
    fn a_fragment_given_as_a_whole_configuration_is_told_to_use_policy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fragment.conf");
        std::fs::write(
            &path,
            "acl wu dstdomain .update.microsoft.com\nadaptation_access lab_reqmod deny wu\n",
        )
        .unwrap();
        let error = WholeConfig::load(&path, &WholeOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("fragment.conf:2"), "{error}");
        assert!(error.contains("--policy"), "{error}");
    }
}
