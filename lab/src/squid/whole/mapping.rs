//! The mapping itself: each directive of the admin's configuration kept, or pointed at the
//! lab's own (one generated line per line read, so Squid's line numbers lead back to the
//! user's file), with a [`Change`] saying why, or a [`MappingLimit`] naming the properties
//! whose evidence depends on what could not be mapped.

use std::collections::{BTreeSet, HashSet};

use conformance_model::{Property, LAB_USER};

use super::helpers::{acls_using, properties_decided_by, ExternalAclType, HelperRole};
use super::source::{quoted_file, Source, SourceLine};
use super::{
    CarriedFile, Change, MappingLimit, WholeConfError, WholeOptions, CARRIED_DIR, CATEGORIZER_PORT,
    ICAP_PORT, STUB_HELPER_NAME,
};
use crate::squid::preamble::{CATEGORIZE_HELPER_NAME, LAB_DIR, PROXY_PORT};

/// TLS options of a listening port that name the admin's certificates and keys.
const PORT_TLS_OPTIONS: &[&str] = &[
    "tls-cert=",
    "cert=",
    "tls-key=",
    "key=",
    "tls-cafile=",
    "cafile=",
    "capath=",
    "tls-dh=",
    "dhparams=",
    "clientca=",
    "tls-clientca=",
    "crlfile=",
    "generate-host-certificates",
    "dynamic_cert_mem_cache_size=",
];

/// Directives whose job the lab's plumbing does: removed, with why.
const LAB_PLUMBING: &[(&str, &str)] = &[
    (
        "access_log",
        "its evidence log: every request, in one format the harness reads",
    ),
    (
        "cache_access_log",
        "its evidence log: every request, in one format the harness reads",
    ),
    ("cache_log", "where the harness reads Squid's messages"),
    ("cache_store_log", "no store log in the lab"),
    (
        "icap_log",
        "the ICAP recorder journals every ICAP call instead",
    ),
    ("logfile_daemon", "the lab writes its logs itself"),
    ("useragent_log", "its evidence log replaces it"),
    ("referer_log", "its evidence log replaces it"),
    (
        "sslcrtd_program",
        "its certificate generator signs with the lab's interception CA",
    ),
    (
        "tls_outgoing_options",
        "upstream TLS is verified against the lab's origin CA",
    ),
    (
        "sslproxy_cafile",
        "upstream TLS is verified against the lab's origin CA",
    ),
    (
        "sslproxy_capath",
        "upstream TLS is verified against the lab's origin CA",
    ),
    (
        "hosts_file",
        "every lab host name resolves to the lab's origins",
    ),
    (
        "dns_nameservers",
        "the lab resolves every lab host name itself",
    ),
    ("pid_filename", "in the lab's run directory"),
    ("coredump_dir", "in the lab's spool directory"),
    (
        "cache_effective_user",
        "Squid runs as Debian's `proxy` user",
    ),
    (
        "cache_effective_group",
        "Squid runs as Debian's `proxy` user",
    ),
    ("workers", "one Squid process: the harness reads one log"),
    ("cpu_affinity_map", "one Squid process"),
    (
        "tcp_outgoing_address",
        "the lab's network has none of the proxy's addresses",
    ),
    (
        "udp_outgoing_address",
        "the lab's network has none of the proxy's addresses",
    ),
    (
        "buffered_logs",
        "`off`: the steps read the log as it is written",
    ),
    (
        "log_mime_hdrs",
        "`off`: evidence lines stay one request each",
    ),
    (
        "debug_options",
        "`ALL,1`: the lab waits for Squid's ready line",
    ),
    (
        "shutdown_lifetime",
        "1 second: the lab is removed at the end of the run",
    ),
    (
        "ecap_enable",
        "no eCAP module runs in the lab (see the eCAP service it names)",
    ),
    (
        "loadable_modules",
        "no eCAP module runs in the lab (see the eCAP service it names)",
    ),
    (
        "auth_schemes",
        "the lab serves its credentials with one scheme (Basic)",
    ),
];

/// Where the lab's clients connect from: Docker's default address pools.
const LAB_CLIENT_NETWORKS: &[&str] = &["172.16.0.0/12", "192.168.0.0/16"];

/// URL rewriters that are URL filters, by program name: the lab's categoriser stands in.
const URL_FILTER_REWRITERS: &[&str] = &["squidguard", "ufdbgclient", "ufdbguard"];

/// What the mapping produced.
pub(super) struct Mapped {
    pub generated: Vec<String>,
    pub changes: Vec<Change>,
    pub limits: Vec<MappingLimit>,
    pub carried: Vec<CarriedFile>,
    pub header: Vec<String>,
    pub epilogue: Vec<String>,
}

struct Mapper<'a> {
    source: &'a Source,
    options: &'a WholeOptions,
    out: Mapped,
    listener_taken: bool,
    next_port: u16,
    /// Each scheme, the index of its row in the table, and how many lines it had.
    auth_schemes: Vec<(String, usize, usize)>,
    cache_dir_removed: bool,
    /// The URL rewriter is the URL filter: it is asked with the scenario header.
    rewriter_is_filter: bool,
    acl_files: Vec<(String, String)>,
    /// Client-network ACLs the lab's networks were added to.
    clients_extended: HashSet<String>,
    unknown_helpers: Vec<(String, String, ExternalAclType)>,
}

pub(super) fn map(source: &Source, options: &WholeOptions) -> Result<Mapped, WholeConfError> {
    let helpers: Vec<ExternalAclType> = directives(source)
        .filter(|(_, words)| words[0] == "external_acl_type")
        .filter_map(|(_, words)| ExternalAclType::parse(&words[1..]))
        .collect();
    if let Some(names) = &options.url_filters {
        let rewriter = directives(source)
            .any(|(_, w)| matches!(w[0], "url_rewrite_program" | "redirect_program"));
        for name in names {
            if name == "url_rewrite_program" && rewriter {
                continue;
            }
            if !helpers.iter().any(|h| &h.name == name) {
                return Err(WholeConfError::at(
                    None,
                    format!(
                        "--url-filter {name}: the configuration defines no external_acl_type {name} (it defines: {})",
                        if helpers.is_empty() {
                            "none".to_owned()
                        } else {
                            helpers.iter().map(|h| h.name.as_str()).collect::<Vec<_>>().join(", ")
                        }
                    ),
                ));
            }
        }
    }
    let mut mapper = Mapper {
        source,
        options,
        out: Mapped {
            generated: Vec::new(),
            changes: Vec::new(),
            limits: Vec::new(),
            carried: Vec::new(),
            header: Vec::new(),
            epilogue: Vec::new(),
        },
        listener_taken: false,
        next_port: PROXY_PORT + 1,
        auth_schemes: Vec::new(),
        cache_dir_removed: false,
        rewriter_is_filter: false,
        acl_files: Vec::new(),
        clients_extended: HashSet::new(),
        unknown_helpers: Vec::new(),
    };
    mapper.carry_acl_files();
    let mut comment_continuations = false;
    for line in &source.lines {
        let Some(directive) = &line.directive else {
            let continuation =
                !line.raw.trim().is_empty() && !line.raw.trim_start().starts_with('#');
            mapper
                .out
                .generated
                .push(if comment_continuations && continuation {
                    format!("# [lab] (continued) {}", line.raw.trim())
                } else {
                    line.raw.clone()
                });
            continue;
        };
        let mapped = mapper.map_directive(line, directive);
        comment_continuations = mapped.is_some();
        mapper
            .out
            .generated
            .push(mapped.unwrap_or_else(|| line.raw.clone()));
    }
    mapper.finish();
    Ok(mapper.out)
}

/// Every directive with its words (directive name first).
fn directives(source: &Source) -> impl Iterator<Item = (&SourceLine, Vec<&str>)> {
    source.lines.iter().filter_map(|line| {
        let words: Vec<&str> = line.directive.as_deref()?.split_whitespace().collect();
        (!words.is_empty()).then_some((line, words))
    })
}

/// A directive shortened for the table.
fn shorten(text: &str) -> String {
    const WIDTH: usize = 60;
    if text.chars().count() <= WIDTH {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(WIDTH - 1).collect::<String>())
    }
}

impl Mapper<'_> {
    fn change(&mut self, line: &SourceLine, directive: &str, became: &str, why: &str) {
        self.out.changes.push(Change {
            at: self.source.locate(line.origin),
            directive: shorten(directive),
            became: became.to_owned(),
            why: why.to_owned(),
        });
    }

    fn limit(
        &mut self,
        line: &SourceLine,
        directive: &str,
        consequence: String,
        properties: &[Property],
    ) {
        self.out.limits.push(MappingLimit {
            at: self.source.locate(line.origin),
            directive: shorten(directive),
            consequence,
            properties: properties.to_vec(),
        });
    }

    /// The files ACLs name, each under its own name in the container.
    fn carry_acl_files(&mut self) {
        for (index, file) in self.source.acl_files.iter().enumerate() {
            let base = std::path::Path::new(&file.named)
                .file_name()
                .map_or_else(|| "values".to_owned(), |n| n.to_string_lossy().into_owned());
            let container_path = format!("{CARRIED_DIR}/{}-{base}", index + 1);
            self.acl_files
                .push((file.named.clone(), container_path.clone()));
            self.out.carried.push(CarriedFile {
                container_path,
                read_from: file.read_from.clone(),
                bytes: file.bytes.clone(),
            });
        }
    }

    /// For the first `src` line of an ACL naming the clients (`localnet`, or `--client-acl`):
    /// the lab's client networks its values do not already list.
    fn client_networks_missing(&mut self, words: &[&str]) -> Vec<&'static str> {
        let (Some(name), Some(&"src")) = (words.get(1), words.get(2)) else {
            return Vec::new();
        };
        let named = match &self.options.client_acls {
            Some(names) => names.iter().any(|n| n == name),
            None => *name == "localnet",
        };
        if !named || self.clients_extended.contains(*name) {
            return Vec::new();
        }
        self.clients_extended.insert((*name).to_owned());
        let listed: HashSet<&str> = directives(self.source)
            .filter(|(_, w)| w.len() > 3 && w[1] == *name && w[2] == "src")
            .flat_map(|(_, w)| w[3..].to_vec())
            .collect();
        LAB_CLIENT_NETWORKS
            .iter()
            .copied()
            .filter(|network| !listed.contains(network))
            .collect()
    }

    /// The line the lab runs instead, or `None` to keep the admin's.
    fn map_directive(&mut self, line: &SourceLine, directive: &str) -> Option<String> {
        let words: Vec<&str> = directive.split_whitespace().collect();
        let name = words[0];
        match name {
            "include" => Some(self.map_include(line, directive)),
            "acl" => self.map_acl(line, directive, &words),
            "http_port" | "https_port" => Some(self.map_port(line, directive, &words)),
            "auth_param" => Some(self.map_auth_param(line, directive, &words)),
            "icap_service" | "ecap_service" => {
                Some(self.map_adaptation_service(line, directive, &words))
            }
            "external_acl_type" => self.map_external_acl_type(line, directive, &words),
            "url_rewrite_program"
            | "redirect_program"
            | "store_id_program"
            | "storeurl_rewrite_program" => self.map_rewriter(line, directive, &words),
            "cache_peer" => {
                self.limit(
                    line,
                    directive,
                    "removed: the parent proxy is not in the lab, so the lab sends requests direct; \
                     what the parent does to update traffic (authenticate, cache, adapt, intercept, \
                     refuse) is not judged"
                        .to_owned(),
                    &Property::ALL,
                );
                Some(format!(
                    "# [lab] no parent proxy in the lab: {}",
                    line.raw.trim()
                ))
            }
            "cache_peer_access" | "cache_peer_domain" | "neighbor_type_domain" | "never_direct" => {
                self.change(
                    line,
                    directive,
                    "removed",
                    "its parent proxy is not in the lab (see cache_peer): requests go direct",
                );
                Some(format!(
                    "# [lab] no parent proxy in the lab: {}",
                    line.raw.trim()
                ))
            }
            "cache_dir" => {
                self.cache_dir_removed = true;
                self.change(
                    line,
                    directive,
                    "memory cache (memory_cache_mode always)",
                    "the lab caches in memory; the `cache` rules decide what is stored, as before",
                );
                Some(format!(
                    "# [lab] cached in memory instead: {}",
                    line.raw.trim()
                ))
            }
            _ => self.map_lab_plumbing(line, directive, name),
        }
    }

    /// `include`: its files are inlined where it stands.
    fn map_include(&mut self, line: &SourceLine, directive: &str) -> String {
        let read = self.included_files(line);
        self.change(
            line,
            directive,
            &if read.is_empty() {
                "nothing (no file matches)".to_owned()
            } else {
                format!("inlined: {}", read.join(", "))
            },
            "carried in from this machine",
        );
        format!("# [lab] inlined below: {}", line.raw.trim())
    }

    /// `auth_param`: every scheme becomes the lab's Basic credentials (one change per scheme).
    fn map_auth_param(&mut self, line: &SourceLine, directive: &str, words: &[&str]) -> String {
        let scheme = words.get(1).copied().unwrap_or("?").to_owned();
        if let Some(entry) = self.auth_schemes.iter_mut().find(|(s, _, _)| *s == scheme) {
            entry.2 += 1;
        } else {
            self.auth_schemes
                .push((scheme.clone(), self.out.changes.len(), 1));
            let why = if scheme == "basic" {
                "the lab's credentials: every proxy_auth ACL still asks for a login, and the lab's clients can give one".to_owned()
            } else {
                format!("the lab's clients log in with Basic, not {scheme}: every proxy_auth ACL still asks for a login, and the lab's clients can give one")
            };
            self.change(
                line,
                directive,
                &format!("auth_param basic (the lab's user `{LAB_USER}`)"),
                &why,
            );
        }
        format!(
            "# [lab] served by the lab's credentials: {}",
            line.raw.trim()
        )
    }

    /// A directive of the lab's own plumbing (logs, modules, debug): the lab's value; `None`
    /// for any other directive, which is kept.
    fn map_lab_plumbing(
        &mut self,
        line: &SourceLine,
        directive: &str,
        name: &str,
    ) -> Option<String> {
        let (_, why) = LAB_PLUMBING.iter().find(|(d, _)| *d == name)?;
        let became = match name {
            "buffered_logs" | "log_mime_hdrs" | "debug_options" | "shutdown_lifetime" => {
                "the lab's value"
            }
            "ecap_enable" | "loadable_modules" | "auth_schemes" => "removed",
            _ => "the lab's",
        };
        self.change(line, directive, became, why);
        Some(format!("# [lab] {became}: {}", line.raw.trim()))
    }

    /// The files an `include` line brought in (those read right after it, from other files).
    fn included_files(&self, line: &SourceLine) -> Vec<String> {
        let position = self
            .source
            .lines
            .iter()
            .position(|l| l.origin == line.origin)
            .unwrap_or(0);
        let mut files: Vec<usize> = Vec::new();
        for later in &self.source.lines[position + 1..] {
            if later.origin.file == line.origin.file {
                break;
            }
            if !files.contains(&later.origin.file) {
                files.push(later.origin.file);
            }
        }
        files
            .into_iter()
            .map(|f| crate::display_path(&self.source.files[f]))
            .collect()
    }

    fn map_acl(&mut self, line: &SourceLine, directive: &str, words: &[&str]) -> Option<String> {
        let names_users = matches!(words.get(2), Some(&"proxy_auth" | &"proxy_auth_regex"))
            && !words.iter().skip(3).any(|w| *w == "REQUIRED");
        if names_users {
            self.change(
                line,
                directive,
                "kept as written",
                &format!(
                    "it names users: the lab's clients log in as `{LAB_USER}`, whom it matches only if it names them"
                ),
            );
        }
        let extend = self.client_networks_missing(words);
        if !words.iter().skip(3).any(|w| quoted_file(w).is_some()) && extend.is_empty() {
            return None;
        }
        // The whole directive on one line: a file named on a continuation line is carried too.
        let mut raw = directive.to_owned();
        if !extend.is_empty() {
            raw = format!("{raw} {}", extend.join(" "));
            self.change(
                line,
                directive,
                &format!("the same, and the lab's client networks {}", extend.join(" ")),
                "the lab's clients connect from Docker's networks; name the ACLs of your client networks with --client-acl NAME",
            );
        }
        for word in words.iter().skip(3) {
            let Some(named) = quoted_file(word) else {
                continue;
            };
            let Some((_, container)) = self.acl_files.iter().find(|(n, _)| n == named) else {
                continue;
            };
            raw = raw.replace(&format!("\"{named}\""), &format!("\"{container}\""));
            let read_from = self
                .source
                .acl_files
                .iter()
                .find(|f| f.named == named)
                .map(|f| crate::display_path(&f.read_from))
                .unwrap_or_default();
            self.change(
                line,
                directive,
                &format!("the same values, read from {read_from}"),
                "ACL file carried in from this machine",
            );
        }
        Some(raw)
    }

    fn map_port(&mut self, line: &SourceLine, directive: &str, words: &[&str]) -> String {
        let options: Vec<&str> = words.iter().skip(2).copied().collect();
        let has = |flag: &str| {
            options
                .iter()
                .any(|o| *o == flag || o.starts_with(&format!("{flag}=")))
        };
        let intercepting = has("intercept") || has("transparent") || has("tproxy");
        let forward = !(intercepting || has("accel") || has("vhost") || has("defaultsite"));
        let bumps = has("ssl-bump");
        let mut kept: Vec<String> = options
            .iter()
            .filter(|o| !PORT_TLS_OPTIONS.iter().any(|t| o.starts_with(t)))
            .map(|o| {
                if *o == "tproxy" {
                    "intercept".to_owned()
                } else {
                    (*o).to_owned()
                }
            })
            .collect();
        let listener = forward && !self.listener_taken;
        // The listener speaks plain HTTP to the lab's clients: a certificate only to bump.
        let needs_certificate = bumps || (words[0] == "https_port" && !listener);
        if needs_certificate {
            kept.push(format!(
                "tls-cert={LAB_DIR}/interception-ca.pem tls-key={LAB_DIR}/interception-ca.key"
            ));
            if bumps {
                kept.push(
                    "generate-host-certificates=on dynamic_cert_mem_cache_size=4MB".to_owned(),
                );
            }
        }
        let (port, kind) = if listener {
            self.listener_taken = true;
            (PROXY_PORT, "http_port")
        } else {
            self.next_port += 1;
            (self.next_port - 1, words[0])
        };
        let mode = if bumps {
            "ssl-bump kept, the lab's interception CA signs"
        } else if intercepting {
            "intercepting kept"
        } else if forward {
            "plain forward proxy, no TLS interception (as written)"
        } else {
            "kept"
        };
        let mut became = format!("{kind} {port} ({mode})");
        let mut why = if listener {
            "the lab's listener: every client of the run connects here".to_owned()
        } else {
            "kept on a port of its own in the lab; the lab's clients use the first forward-proxy port".to_owned()
        };
        if listener && words[0] == "https_port" {
            why.push_str("; they speak plain HTTP to it, so it listens as http_port");
        }
        if has("tproxy") {
            became.push_str(", tproxy as intercept");
            why.push_str("; the lab's container cannot spoof addresses (tproxy)");
        }
        self.change(line, directive, &became, &why);
        let options = if kept.is_empty() {
            String::new()
        } else {
            format!(" {}", kept.join(" "))
        };
        format!("{kind} {port}{options}")
    }

    fn map_adaptation_service(
        &mut self,
        line: &SourceLine,
        directive: &str,
        words: &[&str],
    ) -> String {
        let name = words.get(1).copied().unwrap_or("unnamed");
        let vectoring = words.get(2).copied().unwrap_or("reqmod_precache");
        let path = if vectoring.starts_with("respmod") {
            "respmod"
        } else {
            "reqmod"
        };
        let mut options: Vec<String> = Vec::new();
        for word in words.iter().skip(3) {
            match *word {
                "0" => options.push("bypass=off".to_owned()),
                "1" => options.push("bypass=on".to_owned()),
                w if w.starts_with("bypass=")
                    || w.starts_with("routing=")
                    || w.starts_with("on-overload=") =>
                {
                    options.push(w.to_owned())
                }
                _ => {}
            }
        }
        if !options.iter().any(|o| o.starts_with("bypass=")) {
            options.push("bypass=off".to_owned());
        }
        // One URI per service: Squid warns about a service set whose members share one.
        let url = format!("icap://host.docker.internal:{ICAP_PORT}/{path}?service={name}");
        if words[0] == "ecap_service" {
            self.change(
                line,
                directive,
                &format!("icap_service {name} {vectoring} (the lab's ICAP recorder)"),
                "no eCAP module runs in the lab; under its name the ICAP recorder sees every \
                 message the adaptation rules send to it, which is what @icap judges",
            );
        } else {
            self.change(
                line,
                directive,
                &format!("icap_service {name} {vectoring} at the lab's ICAP recorder ({})", path.to_uppercase()),
                "same name and vectoring point: the adaptation rules and service sets keep their meaning",
            );
        }
        format!(
            "icap_service {name} {vectoring} {url} {}",
            options.join(" ")
        )
    }

    fn map_external_acl_type(
        &mut self,
        line: &SourceLine,
        directive: &str,
        words: &[&str],
    ) -> Option<String> {
        let helper = ExternalAclType::parse(&words[1..])?;
        let role = helper.role(self.options.url_filters.as_deref());
        let name = &helper.name;
        match role {
            HelperRole::UrlFilter => {
                let user = if helper.names_user() { " %LOGIN" } else { "" };
                let how = if self.options.url_filters.is_some() {
                    "named with --url-filter"
                } else {
                    "its lookups name the destination (override with --url-filter NAME)"
                };
                self.change(
                    line,
                    directive,
                    &format!("external_acl_type {name} answered by the lab's categoriser"),
                    &format!(
                        "the URL filter: {how}; answers OK for hosts the lab's categorisation service calls blocked"
                    ),
                );
                Some(format!(
                    "external_acl_type {name} ttl=0 negative_ttl=0 children-max=8 children-startup=2 children-idle=1 %DST %>ha{{X-Conformance-Scenario}}{user} {LAB_DIR}/{CATEGORIZE_HELPER_NAME} host.docker.internal:{CATEGORIZER_PORT}"
                ))
            }
            HelperRole::Group => {
                self.change(
                    line,
                    directive,
                    &format!("external_acl_type {name} answering OK for the lab's user"),
                    &format!(
                        "a group lookup (it asks about the user): the lab's user `{LAB_USER}` belongs to every group; \
                         update traffic sends no credentials, so a rule that needs it challenges (judged as @auth)"
                    ),
                );
                Some(format!(
                    "external_acl_type {name} children-max=4 children-startup=1 %LOGIN {LAB_DIR}/{STUB_HELPER_NAME} OK"
                ))
            }
            HelperRole::Unknown => {
                self.unknown_helpers.push((
                    self.source.locate(line.origin),
                    shorten(directive),
                    helper.clone(),
                ));
                let format = if helper.format.is_empty() {
                    "%SRC".to_owned()
                } else {
                    helper.format.join(" ")
                };
                Some(format!(
                    "external_acl_type {name} children-max=4 children-startup=1 {format} {LAB_DIR}/{STUB_HELPER_NAME} ERR"
                ))
            }
        }
    }

    fn map_rewriter(
        &mut self,
        line: &SourceLine,
        directive: &str,
        words: &[&str],
    ) -> Option<String> {
        let program = words.get(1).copied().unwrap_or_default();
        if program.starts_with("/usr/lib/squid/") {
            // A helper Squid ships runs in the lab as it is.
            return None;
        }
        let store_id = matches!(words[0], "store_id_program" | "storeurl_rewrite_program");
        let basename = program
            .rsplit('/')
            .next()
            .unwrap_or(program)
            .to_ascii_lowercase();
        let filter = match &self.options.url_filters {
            Some(names) => names.iter().any(|n| n == "url_rewrite_program"),
            None => URL_FILTER_REWRITERS.contains(&basename.as_str()),
        };
        if !store_id && filter {
            self.rewriter_is_filter = true;
            self.change(
                line,
                directive,
                "the lab's categoriser as a URL rewriter",
                &format!(
                    "the URL filter: {}; a host the lab's categorisation service calls blocked is redirected to a block page, any other is left alone",
                    if self.options.url_filters.is_some() {
                        "named with --url-filter url_rewrite_program".to_owned()
                    } else {
                        format!("{basename} is a URL filter (override with --url-filter)")
                    }
                ),
            );
            return Some(format!(
                "{} {LAB_DIR}/{CATEGORIZE_HELPER_NAME} --rewriter host.docker.internal:{CATEGORIZER_PORT}",
                words[0]
            ));
        }
        let (what, properties): (&str, &[Property]) = if store_id {
            (
                "a Store-ID program decides which URLs share a cache entry",
                &[Property::Cache, Property::DynamicNames],
            )
        } else {
            (
                "a URL rewriter or filter (squidGuard, ufdbGuard …) may redirect, rewrite or block any request",
                &[Property::Categorize, Property::Integrity],
            )
        };
        self.limit(
            line,
            directive,
            format!("replaced by a stand-in that changes nothing: {what}, and the lab cannot run {program}"),
            properties,
        );
        Some(format!("{} {LAB_DIR}/{STUB_HELPER_NAME} ERR", words[0]))
    }

    /// The lab's credentials, the epilogue, and the consequence of each helper the lab could
    /// not emulate (from the rules that use its ACLs).
    fn finish(&mut self) {
        if !self.auth_schemes.is_empty() {
            self.out.header.extend([
                format!(
                    "auth_param basic program /usr/lib/squid/basic_ncsa_auth {LAB_DIR}/htpasswd"
                ),
                "auth_param basic children 4 startup=1 idle=1".to_owned(),
                "auth_param basic realm proxy-conformance lab".to_owned(),
            ]);
            for (scheme, index, count) in std::mem::take(&mut self.auth_schemes) {
                self.out.changes[index].directive =
                    format!("auth_param {scheme} … ({count} line(s))");
            }
        }
        if !self.listener_taken {
            self.out.epilogue.push(format!("http_port {PROXY_PORT}"));
            self.out.changes.push(Change {
                at: self.source.locate(self.source.lines[0].origin),
                directive: "(no forward-proxy http_port)".to_owned(),
                became: format!("http_port {PROXY_PORT} (plain)"),
                why: "the lab's clients need a forward-proxy port to connect to".to_owned(),
            });
        }
        if self.cache_dir_removed {
            self.out
                .epilogue
                .push("memory_cache_mode always".to_owned());
        }
        if self.rewriter_is_filter {
            self.out
                .epilogue
                .push("url_rewrite_extras \"%>ha{X-Conformance-Scenario}\"".to_owned());
        }
        let acls: Vec<Vec<&str>> = directives(self.source)
            .filter(|(_, w)| w[0] == "acl")
            .map(|(_, w)| w)
            .collect();
        let rules: Vec<Vec<&str>> = directives(self.source)
            .filter(|(_, w)| w[0] != "acl")
            .map(|(_, w)| w)
            .collect();
        for (at, directive, helper) in std::mem::take(&mut self.unknown_helpers) {
            let using = acls_using(&HashSet::from([helper.name.clone()]), &acls);
            let (properties, rule_kinds) = properties_decided_by(&using, &rules);
            let consequence = if properties.is_empty() {
                format!(
                    "replaced by a stand-in that answers ERR (no match): the lab cannot emulate {}; no rule that decides a property uses its ACLs",
                    helper.program.first().map_or("it", String::as_str)
                )
            } else {
                format!(
                    "replaced by a stand-in that answers ERR (no match): the lab cannot emulate {}, and its ACLs ({}) decide {} rules",
                    helper.program.first().map_or("it", String::as_str),
                    using.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(", "),
                    rule_kinds.into_iter().collect::<Vec<_>>().join(", ")
                )
            };
            self.out.limits.push(MappingLimit {
                at,
                directive,
                consequence,
                properties: properties.into_iter().collect(),
            });
        }
    }
}
