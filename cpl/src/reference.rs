//! The CPL Guide's reference, as data: the layer types, section types, triggers (conditions),
//! properties and actions, each with the layers the Guide's "Layer and Transaction Notes"
//! allow it in. Lint checks names against it (with "did you mean" for near misses) and
//! checks each trigger and property against the layer it is written in.
//!
//! Layer sets are kept only where the Guide is explicit (e.g. `<Cache>` layers are clientless:
//! no `client.address=`, `user=`, `group=`; `cache()` only in `<Cache>`; `bypass_cache()` and
//! `request.icap_service()` only in `<Proxy>`; `ssl.forward_proxy()` only in
//! `<SSL-Intercept>`; `forward()` only in `<Forward>`); elsewhere a name is allowed in every
//! layer, so an unsure entry never produces a false error. Names missing from the table but
//! far from every known one are reported as warnings, never errors.

use crate::ast::LayerKind;

pub(crate) type Layers = u16;
pub(crate) const ADMIN: Layers = 1;
pub(crate) const PROXY: Layers = 1 << 1;
pub(crate) const CACHE: Layers = 1 << 2;
pub(crate) const EXCEPTION: Layers = 1 << 3;
pub(crate) const FORWARD: Layers = 1 << 4;
pub(crate) const SSL_INTERCEPT: Layers = 1 << 5;
pub(crate) const SSL: Layers = 1 << 6;
pub(crate) const DNS: Layers = 1 << 7;
pub(crate) const ANY: Layers = 0xff;
/// Everything with a client: not `<Cache>` (the Guide: cache transactions have no client).
const CLIENT: Layers = ANY & !CACHE;
const NOT_DNS: Layers = ANY & !DNS;
const TRAFFIC: Layers = PROXY | CACHE | EXCEPTION | FORWARD | SSL_INTERCEPT | SSL;

pub(crate) fn layer_bit(kind: &LayerKind) -> Option<Layers> {
    Some(match kind {
        LayerKind::Admin => ADMIN,
        LayerKind::Proxy => PROXY,
        LayerKind::Cache => CACHE,
        LayerKind::Exception => EXCEPTION,
        LayerKind::Forward => FORWARD,
        LayerKind::SslIntercept => SSL_INTERCEPT,
        LayerKind::Ssl => SSL,
        LayerKind::DnsProxy => DNS,
        LayerKind::Unknown(_) | LayerKind::Outside => return None,
    })
}

pub(crate) fn describe_layers(layers: Layers) -> String {
    let names: Vec<&str> = [
        (ADMIN, "<Admin>"),
        (PROXY, "<Proxy>"),
        (CACHE, "<Cache>"),
        (EXCEPTION, "<Exception>"),
        (FORWARD, "<Forward>"),
        (SSL_INTERCEPT, "<SSL-Intercept>"),
        (SSL, "<SSL>"),
        (DNS, "<DNS-Proxy>"),
    ]
    .iter()
    .filter(|(bit, _)| layers & bit != 0)
    .map(|(_, name)| *name)
    .collect();
    names.join(", ")
}

/// Triggers: the name without its match modifiers, and where it may be used. A trailing `*`
/// stands for any one user-chosen segment (a header or attribute name).
const TRIGGERS: &[(&str, Layers)] = &[
    ("condition", ANY),
    // URL tests (request URL and the server URL after rewrites)
    ("url", NOT_DNS),
    ("url.domain", NOT_DNS),
    ("url.host", NOT_DNS),
    ("url.path", NOT_DNS),
    ("url.query", NOT_DNS),
    ("url.regex", NOT_DNS),
    ("url.address", NOT_DNS),
    ("url.extension", NOT_DNS),
    ("url.port", NOT_DNS),
    ("url.scheme", NOT_DNS),
    ("url.category", NOT_DNS),
    ("url.threat_risk.level", NOT_DNS),
    ("url.application.name", NOT_DNS),
    ("url.application.operation", NOT_DNS),
    ("url.is_absolute", NOT_DNS),
    ("server_url", NOT_DNS),
    ("server_url.domain", NOT_DNS),
    ("server_url.host", NOT_DNS),
    ("server_url.path", NOT_DNS),
    ("server_url.query", NOT_DNS),
    ("server_url.regex", NOT_DNS),
    ("server_url.address", NOT_DNS),
    ("server_url.extension", NOT_DNS),
    ("server_url.port", NOT_DNS),
    ("server_url.scheme", NOT_DNS),
    ("server_url.category", NOT_DNS),
    ("category", NOT_DNS),
    ("threat_risk.level", NOT_DNS),
    ("risk_score", NOT_DNS),
    ("application.name", NOT_DNS),
    ("application.operation", NOT_DNS),
    ("content_admin", NOT_DNS),
    // client and proxy: not in <Cache> layers
    ("client.address", CLIENT),
    ("client_address", CLIENT),
    ("client.effective_address", CLIENT),
    ("client.host", CLIENT),
    ("client.protocol", CLIENT),
    ("client.interface", CLIENT),
    ("client.type", CLIENT),
    ("client.connection.negotiated_cipher", CLIENT),
    ("client.connection.negotiated_cipher.strength", CLIENT),
    ("client.connection.negotiated_ssl_version", CLIENT),
    ("client.connection.dscp", CLIENT),
    ("client.connection.ssl_server_name", CLIENT),
    ("client.certificate.common_name", CLIENT),
    ("client.certificate.subject", CLIENT),
    ("client.certificate.requested", CLIENT),
    ("proxy.address", CLIENT),
    ("proxy.card", CLIENT),
    ("proxy.port", CLIENT),
    ("service.name", CLIENT),
    ("service.group", CLIENT),
    ("tunneled", CLIENT),
    ("health_check", CLIENT),
    ("has_client", ANY),
    // identity: not in <Cache> layers
    ("user", CLIENT),
    ("group", CLIENT),
    ("realm", CLIENT),
    ("authenticated", CLIENT),
    ("user.domain", CLIENT),
    ("user.is_guest", CLIENT),
    ("user.authentication_error", CLIENT),
    ("user.authorization_error", CLIENT),
    ("user.login.address", CLIENT),
    ("user.login.count", CLIENT),
    ("user.login.time", CLIENT),
    ("user.x509.issuer", CLIENT),
    ("user.x509.serialnumber", CLIENT),
    ("user.x509.subject", CLIENT),
    ("attribute.*", CLIENT),
    ("has_attribute.*", CLIENT),
    ("admin.access", ADMIN | PROXY),
    ("console_access", ADMIN),
    // time
    ("time", ANY),
    ("date", ANY),
    ("day", ANY),
    ("hour", ANY),
    ("minute", ANY),
    ("month", ANY),
    ("weekday", ANY),
    ("year", ANY),
    ("release.id", ANY),
    ("release.version", ANY),
    // HTTP request and response
    ("method", NOT_DNS),
    ("http.method", NOT_DNS),
    ("http.x_method", NOT_DNS),
    ("http.connect", NOT_DNS),
    ("http.request.version", NOT_DNS),
    ("http.request.apparent_data_type", NOT_DNS),
    ("http.transparent_authentication", NOT_DNS),
    ("http.response.code", PROXY | CACHE | EXCEPTION),
    ("http.response.version", PROXY | CACHE | EXCEPTION),
    (
        "http.response.apparent_data_type",
        PROXY | CACHE | EXCEPTION,
    ),
    ("request.header.*", NOT_DNS),
    ("request.x_header.*", NOT_DNS),
    ("request.raw_headers", NOT_DNS),
    ("request.raw_headers.*", NOT_DNS),
    ("request.icap.error_code", NOT_DNS),
    ("response.header.*", PROXY | CACHE | EXCEPTION),
    ("response.x_header.*", PROXY | CACHE | EXCEPTION),
    ("response.raw_headers", PROXY | CACHE | EXCEPTION),
    ("response.raw_headers.*", PROXY | CACHE | EXCEPTION),
    ("response.code", PROXY | CACHE | EXCEPTION),
    ("response.data", PROXY | CACHE | EXCEPTION),
    ("icap_error_code", PROXY | CACHE | EXCEPTION),
    ("virus_detected", PROXY | CACHE | EXCEPTION),
    ("exception.id", PROXY | CACHE | EXCEPTION),
    ("user_agent", NOT_DNS),
    // TLS
    ("server.certificate.hostname", TRAFFIC),
    ("server.certificate.hostname.category", TRAFFIC),
    ("server.certificate.subject", TRAFFIC),
    ("server.certificate.issuer", TRAFFIC),
    ("server.connection.negotiated_cipher", TRAFFIC),
    ("server.connection.negotiated_cipher.strength", TRAFFIC),
    ("server.connection.negotiated_ssl_version", TRAFFIC),
    ("server.connection.dscp", TRAFFIC),
    ("ssl.proxy_mode", TRAFFIC),
    // streaming, instant messaging, FTP, SOCKS
    ("bitrate", PROXY | CACHE | EXCEPTION),
    ("live", PROXY | CACHE | EXCEPTION),
    ("streaming.client", NOT_DNS),
    ("streaming.content", NOT_DNS),
    ("streaming.rtmp.app_name", NOT_DNS),
    ("streaming.rtmp.method", NOT_DNS),
    ("streaming.rtmp.page_url", NOT_DNS),
    ("streaming.rtmp.stream_name", NOT_DNS),
    ("streaming.rtmp.swf_url", NOT_DNS),
    ("im.buddy_id", NOT_DNS),
    ("im.chat_room.conference", NOT_DNS),
    ("im.chat_room.id", NOT_DNS),
    ("im.chat_room.invite_only", NOT_DNS),
    ("im.chat_room.type", NOT_DNS),
    ("im.chat_room.member", NOT_DNS),
    ("im.chat_room.voice_enabled", NOT_DNS),
    ("im.client", NOT_DNS),
    ("im.file.extension", NOT_DNS),
    ("im.file.name", NOT_DNS),
    ("im.file.path", NOT_DNS),
    ("im.file.size", NOT_DNS),
    ("im.message.opcode", NOT_DNS),
    ("im.message.reflected", NOT_DNS),
    ("im.message.route", NOT_DNS),
    ("im.message.size", NOT_DNS),
    ("im.message.text", NOT_DNS),
    ("im.message.type", NOT_DNS),
    ("im.method", NOT_DNS),
    ("im.user_id", NOT_DNS),
    ("ftp.method", NOT_DNS),
    ("p2p.client", NOT_DNS),
    ("socks", CLIENT),
    ("socks.accelerated", CLIENT),
    ("socks.method", CLIENT),
    ("socks.version", CLIENT),
    // DNS proxy
    ("dns.client_transport", DNS),
    ("dns.request.address", DNS),
    ("dns.request.category", DNS),
    ("dns.request.class", DNS),
    ("dns.request.name", DNS),
    ("dns.request.opcode", DNS),
    ("dns.request.type", DNS),
    ("dns.response.a", DNS),
    ("dns.response.cname", DNS),
    ("dns.response.code", DNS),
    ("dns.response.nodata", DNS),
    ("dns.response.ptr", DNS),
];

/// Match modifiers a trigger name may end with (`url.host.suffix=`, `…exact`, …).
const MODIFIERS: &[&str] = &[
    "exact",
    "prefix",
    "suffix",
    "substring",
    "regex",
    "domain",
    "case_sensitive",
    "no_lookup",
    "is_numeric",
    "is_private",
    "no_name",
    "has_name",
    "length",
    "count",
    "exists",
    "address",
    "category",
    "strength",
    "utc",
];

/// Properties and where they may be set.
const PROPERTIES: &[(&str, Layers)] = &[
    // access
    ("allow", ANY & !FORWARD & !EXCEPTION),
    ("deny", ANY & !FORWARD & !EXCEPTION),
    ("force_deny", ANY & !FORWARD & !EXCEPTION),
    ("deny.unauthorized", ANY & !FORWARD & !EXCEPTION),
    ("exception", ANY & !FORWARD & !EXCEPTION),
    ("force_exception", ANY & !FORWARD & !EXCEPTION),
    ("exception.autopad", ANY),
    // authentication
    ("authenticate", PROXY | ADMIN),
    ("authenticate.force", PROXY | ADMIN),
    ("authenticate.force_307_redirect", PROXY | ADMIN),
    ("authenticate.form", PROXY | ADMIN),
    ("authenticate.mode", PROXY | ADMIN),
    ("authenticate.new_pin_form", PROXY | ADMIN),
    ("authenticate.query_form", PROXY | ADMIN),
    ("authenticate.redirect_stored_requests", PROXY | ADMIN),
    ("authenticate.use_url_cookie", PROXY | ADMIN),
    ("authenticate.guest", PROXY | ADMIN),
    ("authenticate.credentials.address", PROXY | ADMIN),
    ("authenticate.tolerate_error", PROXY | ADMIN),
    ("authorize.add_group", PROXY | ADMIN),
    ("authorize.tolerate_error", PROXY | ADMIN),
    ("socks.authenticate", PROXY),
    ("socks.authenticate.force", PROXY),
    ("check_authorization", PROXY),
    ("user.login.log_out", PROXY),
    ("user.login.log_out_other", PROXY),
    ("admin_access", ADMIN),
    // caching
    ("cache", CACHE),
    ("bypass_cache", PROXY),
    ("force_cache", CACHE),
    ("always_verify", CACHE),
    ("cookie_sensitive", CACHE),
    ("ua_sensitive", CACHE),
    ("delete_on_abort", CACHE),
    ("dynamic_bypass", CACHE),
    ("refresh", CACHE),
    ("ttl", CACHE),
    ("max_cache_size", CACHE),
    ("advertisement", CACHE),
    ("pipeline", NOT_DNS),
    ("prefetch", PROXY | CACHE),
    ("patience_page", PROXY),
    // protocol handling
    ("detect_protocol", NOT_DNS),
    ("webpulse.categorize.mode", NOT_DNS),
    ("request.icap_service", PROXY),
    ("response.icap_service", PROXY | CACHE),
    ("request.filter_service", PROXY | CACHE),
    ("response.raw_headers.max_count", ANY),
    ("response.raw_headers.max_length", ANY),
    ("response.raw_headers.tolerate", ANY),
    ("http.allow_compression", NOT_DNS),
    ("http.allow_decompression", NOT_DNS),
    ("http.client.allow_encoding", NOT_DNS),
    ("http.client.persistence", NOT_DNS),
    ("http.client.recv.timeout", NOT_DNS),
    ("http.compression_level", NOT_DNS),
    ("http.force_ntlm_for_server_auth", NOT_DNS),
    ("http.refresh.recv.timeout", NOT_DNS),
    ("http.request.version", NOT_DNS),
    ("http.response.parse_meta_tag.cache_control", NOT_DNS),
    ("http.response.parse_meta_tag.expires", NOT_DNS),
    ("http.response.parse_meta_tag.pragma_no_cache", NOT_DNS),
    ("http.response.version", NOT_DNS),
    ("http.server.accept_encoding", NOT_DNS),
    ("http.server.connect_attempts", NOT_DNS),
    ("http.server.persistence", NOT_DNS),
    ("http.server.recv.timeout", NOT_DNS),
    ("http.strict_request_header", NOT_DNS),
    ("http.strict_response_header", NOT_DNS),
    ("http.server.max_header", NOT_DNS),
    ("ftp.match_client_data_ip", NOT_DNS),
    ("ftp.match_server_data_ip", NOT_DNS),
    ("ftp.server_connection", NOT_DNS),
    ("ftp.server_data", NOT_DNS),
    ("ftp.transport", NOT_DNS),
    ("ftp.welcome_banner", NOT_DNS),
    ("im.block_encryption", NOT_DNS),
    ("im.reflect", NOT_DNS),
    ("im.strip_attachments", NOT_DNS),
    ("im.tunnel", NOT_DNS),
    ("streaming.transport", NOT_DNS),
    ("streaming.rtmp.tunnel_encrypted", NOT_DNS),
    ("max_bitrate", NOT_DNS),
    ("socks.accelerate", PROXY),
    ("socks.allow_compression", PROXY),
    ("socks_gateway", FORWARD),
    ("socks_gateway.fail_open", FORWARD),
    ("socks_gateway.request_compression", FORWARD),
    ("tunnel", PROXY),
    ("service", PROXY | CACHE),
    ("access_server", PROXY),
    ("allow_compression", NOT_DNS),
    ("client.address.login.log_out_other", PROXY),
    ("client.certificate.require", SSL_INTERCEPT | PROXY),
    ("client.certificate.validate", SSL_INTERCEPT | PROXY),
    ("client.connection.dscp", ANY),
    ("server.connection.dscp", ANY),
    ("server.connection.client_issuer_keyring", ANY),
    ("server.certificate.validate", TRAFFIC),
    ("server.certificate.validate.ccl", TRAFFIC),
    ("server.certificate.validate.check_revocation", TRAFFIC),
    ("server.certificate.validate.ignore", TRAFFIC),
    ("server_url.dns_lookup", NOT_DNS),
    ("ssl.forward_proxy", SSL_INTERCEPT),
    ("ssl.forward_proxy.hostname", SSL_INTERCEPT),
    ("ssl.forward_proxy.issuer_keyring", SSL_INTERCEPT),
    ("ssl.forward_proxy.server_keyring", SSL_INTERCEPT),
    ("ssl.forward_proxy.splash_text", SSL_INTERCEPT),
    ("ssl.forward_proxy.splash_url", SSL_INTERCEPT),
    ("ssl.forward_proxy.preserve_untrusted", SSL_INTERCEPT),
    // forwarding
    ("forward", FORWARD),
    ("forward.fail_open", FORWARD),
    ("direct", FORWARD),
    ("icp", FORWARD),
    ("reflect_ip", FORWARD | PROXY),
    ("integrate_new_hosts", FORWARD),
    ("adn.server", FORWARD),
    ("adn.server.optimize", FORWARD),
    ("adn.server.optimize.inbound", FORWARD),
    ("adn.server.optimize.outbound", FORWARD),
    ("adn.server.optimize.byte_cache", FORWARD),
    ("adn.server.optimize.compress", FORWARD),
    ("adn.connection.dscp", FORWARD),
    // logging, tracing, actions
    ("access_log", ANY),
    ("log.suppress.*", ANY),
    ("log.rewrite.*", ANY),
    ("trace.request", ANY),
    ("trace.rules", ANY),
    ("trace.destination", ANY),
    ("action.*", ANY),
    ("action", ANY),
    ("policy.name", ANY),
    ("shell.prompt", ADMIN),
    ("terminate_connection", PROXY),
    ("dns.respond", DNS),
    ("dns.respond.a", DNS),
    ("dns.respond.ptr", DNS),
    ("dns.respond.row", DNS),
    ("dns.request.address", DNS),
    ("dns.request.name", DNS),
    ("dns.request.type", DNS),
];

/// Words that stand alone as an action on a rule.
pub(crate) const BARE_ACTIONS: &[&str] = &["allow", "deny", "force_deny", "deny.unauthorized"];

/// Layer types the Guide names, as written in headers.
pub(crate) const LAYER_TYPES: &[&str] = &[
    "Admin",
    "Cache",
    "Exception",
    "Forward",
    "Proxy",
    "SSL",
    "SSL-Intercept",
    "DNS-Proxy",
];

pub(crate) const SECTION_TYPES: &[&str] = &[
    "Rule",
    "url",
    "url.domain",
    "url.regex",
    "server_url.domain",
];

/// Built-in exception ids of `exception()` (user-defined ones are `user_defined.NAME`).
pub(crate) const EXCEPTION_IDS: &[&str] = &[
    "authentication_failed",
    "authentication_failed_password_expired",
    "authentication_redirect_from_virtual_host",
    "authentication_redirect_off_box",
    "authentication_redirect_to_virtual_host",
    "authentication_success",
    "authorization_failed",
    "bad_credentials",
    "client_failure_limit_exceeded",
    "configuration_error",
    "connect_method_denied",
    "content_encoding_error",
    "content_filter_denied",
    "content_filter_unavailable",
    "dns_server_failure",
    "dns_unresolved_hostname",
    "dynamic_bypass_reload",
    "gateway_error",
    "icap_communication_error",
    "icap_error",
    "internal_error",
    "invalid_auth_form",
    "invalid_request",
    "invalid_response",
    "license_exceeded",
    "license_expired",
    "method_denied",
    "not_implemented",
    "notify",
    "notify_missing_cookie",
    "policy_denied",
    "policy_redirect",
    "redirected_stored_requests_not_supported",
    "refresh",
    "server_request_limit_exceeded",
    "silent_denied",
    "spoof_authentication_error",
    "ssl_client_cert_revoked",
    "ssl_domain_invalid",
    "ssl_failed",
    "ssl_server_cert_expired",
    "ssl_server_cert_revoked",
    "ssl_server_cert_untrusted_issuer",
    "tcp_error",
    "transformation_error",
    "unsupported_encoding",
    "unsupported_protocol",
    "virus_detected",
];

/// Triggers whose values are addresses or `define subnet` names.
pub(crate) fn takes_subnet(base: &str) -> bool {
    matches!(
        base,
        "client.address"
            | "client_address"
            | "client.effective_address"
            | "proxy.address"
            | "url.address"
            | "server_url.address"
            | "user.login.address"
            | "dns.request.address"
            | "dns.response.a"
    ) || base.ends_with(".address")
}

fn find(table: &'static [(&'static str, Layers)], name: &str) -> Option<(&'static str, Layers)> {
    table.iter().copied().find(|(entry, _)| {
        if let Some(prefix) = entry.strip_suffix('*') {
            name.len() > prefix.len() && name.starts_with(prefix)
        } else {
            *entry == name
        }
    })
}

/// A trigger name found in the reference: the entry and its layers.
pub(crate) fn trigger(name: &str) -> Option<(&'static str, Layers)> {
    let mut name = name.to_ascii_lowercase();
    loop {
        if let Some(found) = find(TRIGGERS, &name) {
            return Some(found);
        }
        let (rest, last) = name.rsplit_once('.')?;
        if !MODIFIERS.contains(&last) {
            return None;
        }
        name = rest.to_owned();
    }
}

pub(crate) fn property(name: &str) -> Option<(&'static str, Layers)> {
    find(PROPERTIES, &name.to_ascii_lowercase())
}

/// The closest of `candidates` to `written`, when it is close enough to be a typo.
pub(crate) fn closest<'a>(
    written: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let written = written.to_ascii_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let lowered = candidate.trim_end_matches(".*").to_ascii_lowercase();
        if lowered == written {
            continue;
        }
        let distance = strsim::levenshtein(&written, &lowered);
        let limit = match written.len() {
            0..=3 => 0,
            4..=6 => 1,
            _ => 2,
        };
        // Edit distance only: similarity scores that reward a shared prefix would take a
        // real name missing from the table (`authenticate.charset`) for a typo.
        if distance <= limit {
            let score = strsim::jaro_winkler(&written, &lowered) - distance as f64;
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, candidate));
            }
        }
    }
    best.map(|(_, c)| c.trim_end_matches(".*"))
}

/// The most similar of the policy's own names to an undefined reference, for a help text
/// only (the reference is an error whatever the suggestion): a looser match than
/// [`closest`], since the candidates are few and chosen by the policy's author.
pub(crate) fn closest_defined<'a>(
    written: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let written = written.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            let lowered = candidate.to_ascii_lowercase();
            (strsim::jaro_winkler(&written, &lowered), candidate)
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// Names in the trigger table, for suggestions.
pub(crate) fn trigger_names() -> impl Iterator<Item = &'static str> {
    TRIGGERS.iter().map(|(name, _)| *name)
}

pub(crate) fn property_names() -> impl Iterator<Item = &'static str> {
    PROPERTIES.iter().map(|(name, _)| *name)
}

/// A trigger name with its modifiers, suggested for a near miss: `url.domin` → `url.domain`,
/// `url.host.sufix` → `url.host.suffix`.
pub(crate) fn suggest_trigger(written: &str) -> Option<String> {
    let lowered = written.to_ascii_lowercase();
    if let Some(found) = closest(&lowered, trigger_names()) {
        return Some(found.to_owned());
    }
    let (base, last) = lowered.rsplit_once('.')?;
    if trigger(base).is_some() {
        if let Some(modifier) = closest(last, MODIFIERS.iter().copied()) {
            return Some(format!("{base}.{modifier}"));
        }
    }
    let (base_of_base, middle) = base.rsplit_once('.')?;
    let fixed = closest(middle, trigger_names().filter_map(|n| n.rsplit('.').next()))?;
    let candidate = format!("{base_of_base}.{fixed}.{last}");
    trigger(&candidate).map(|_| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_modifiers_and_header_names_are_found() {
        for name in [
            "url.domain",
            "URL.Host.Suffix",
            "server.certificate.hostname.substring",
            "request.header.User-Agent",
            "request.header.Referer.exists",
            "attribute.department",
            "client.address",
        ] {
            assert!(trigger(name).is_some(), "{name}");
        }
        assert!(trigger("url.domin").is_none());
        assert_eq!(suggest_trigger("url.domin").as_deref(), Some("url.domain"));
        assert_eq!(
            suggest_trigger("url.host.sufix").as_deref(),
            Some("url.host.suffix")
        );
        assert!(property("action.my_action").is_some());
        assert_eq!(
            closest("authentiate", property_names()),
            Some("authenticate")
        );
        assert_eq!(closest("wibble", property_names()), None);
    }

    #[test]
    fn layer_notes_the_guide_makes_explicit() {
        assert_eq!(trigger("client.address").unwrap().1 & CACHE, 0);
        assert_eq!(property("cache").unwrap().1, CACHE);
        assert_eq!(property("bypass_cache").unwrap().1, PROXY);
        assert_eq!(property("ssl.forward_proxy").unwrap().1, SSL_INTERCEPT);
    }
}
