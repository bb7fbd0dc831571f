//! Seeded generation of CPL policies shaped like the Windows Update bypasses people write: the
//! host set as a `define url.domain`, `define server_url.domain` or `define condition` list
//! (`url.domain=`, `server_url.domain=`, `url.host.suffix=`, `url.address=` lines), exceptions
//! to it by exact host (denied, or given back authentication, caching or interception in a
//! later layer or an earlier rule), layers guarded by the condition, `DENY` rules, rules the
//! destination cannot decide (`group=`, `client.address=`), `<Cache>` rules with
//! `response.icap_service(no)` and `cache(no)`, and `<SSL-Intercept>` with
//! `ssl.forward_proxy(no)`.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::Rng;

/// Domains a bypass lists: the documented update domains, broader and narrower ones, and the
/// control domains.
const DOMAINS: &[&str] = &[
    "windowsupdate.com",
    "update.microsoft.com",
    "windowsupdate.microsoft.com",
    "delivery.mp.microsoft.com",
    "dl.delivery.mp.microsoft.com",
    "download.microsoft.com",
    "microsoft.com",
    "do.dsp.mp.microsoft.com",
    "emdl.ws.microsoft.com",
    "wustat.windows.com",
    "download.windowsupdate.com",
    "example.com",
];

/// `url.host.suffix=` values: label-unaware, so a look-alike such as `notwindowsupdate.com`
/// matches `windowsupdate.com`.
const SUFFIXES: &[&str] = &[
    "windowsupdate.com",
    ".update.microsoft.com",
    "microsoft.com",
    ".example.net",
];

/// Hosts a policy singles out (the lab serves each).
const EXACT_HOSTS: &[&str] = &[
    "fe2.update.microsoft.com",
    "sls.update.microsoft.com",
    "download.windowsupdate.com",
    "ctldl.windowsupdate.com",
    "www.windowsupdate.com",
    "7.tlu.dl.delivery.mp.microsoft.com",
    "download.microsoft.com",
    "www.example.com",
    "downloads.example.net",
];

/// A generated policy and the hosts it singles out (worth a request each).
pub struct Generated {
    pub source: String,
    pub named_hosts: Vec<String>,
}

fn some<'a>(rng: &mut StdRng, from: &[&'a str], count: usize) -> Vec<&'a str> {
    from.choose_multiple(rng, count).copied().collect()
}

fn host_set(rng: &mut StdRng, out: &mut String) {
    let domains = {
        let count = rng.random_range(2..=5);
        some(rng, DOMAINS, count)
    };
    match rng.random_range(0..3) {
        0 => {
            out.push_str("define url.domain condition WU_Hosts\n");
            for domain in domains {
                out.push_str(&format!("    {domain}\n"));
            }
            out.push_str("end url.domain condition WU_Hosts\n\n");
        }
        1 => {
            out.push_str("define server_url.domain condition WU_Hosts\n");
            for domain in domains {
                out.push_str(&format!("    {domain}\n"));
            }
            out.push_str("end\n\n");
        }
        _ => {
            out.push_str("define condition WU_Hosts\n");
            for domain in domains {
                let trigger = ["url.domain", "server_url.domain"]
                    .choose(rng)
                    .copied()
                    .unwrap_or("url.domain");
                out.push_str(&format!("    {trigger}={domain}\n"));
            }
            if rng.random_bool(0.5) {
                let suffix = SUFFIXES.choose(rng).copied().unwrap_or("microsoft.com");
                out.push_str(&format!("    url.host.suffix=\"{suffix}\"\n"));
            }
            if rng.random_bool(0.4) {
                out.push_str("    url.address=10.20.0.0/16\n");
            }
            out.push_str("end condition WU_Hosts\n\n");
        }
    }
}

fn bypass_properties(rng: &mut StdRng) -> String {
    let mut properties = Vec::new();
    if rng.random_bool(0.5) {
        properties.push("ALLOW");
    }
    if rng.random_bool(0.85) {
        properties.push("authenticate(no)");
    }
    for (property, p) in [
        ("bypass_cache(yes)", 0.7),
        ("request.icap_service(no)", 0.6),
        ("webpulse.categorize.mode(none)", 0.6),
        ("detect_protocol(none)", 0.3),
        ("pipeline(no)", 0.3),
    ] {
        if rng.random_bool(p) {
            properties.push(property);
        }
    }
    if properties.is_empty() {
        properties.push("authenticate(no)");
    }
    properties.join(" ")
}

/// One policy of the run.
pub fn policy(rng: &mut StdRng, number: usize) -> Generated {
    let mut out = format!("; generated policy {number}: a Windows Update bypass\n\n");
    host_set(rng, &mut out);
    let exceptions = {
        let count = rng.random_range(0..=2);
        some(rng, EXACT_HOSTS, count)
    };
    if !exceptions.is_empty() {
        out.push_str("define condition WU_Exceptions\n");
        for host in &exceptions {
            out.push_str(&format!("    url.host={host}\n"));
        }
        out.push_str("end\n\n");
    }
    let exception_in_first_rule = !exceptions.is_empty() && rng.random_bool(0.5);

    out.push_str("<Proxy>\n");
    if rng.random_bool(0.4) {
        let denied = [
            "example.net",
            "do.dsp.mp.microsoft.com",
            "wustat.windows.com",
        ]
        .choose(rng)
        .copied()
        .unwrap_or("example.net");
        out.push_str(&format!("    url.domain={denied} DENY\n"));
    }
    if !exceptions.is_empty() && rng.random_bool(0.3) {
        out.push_str("    condition=WU_Exceptions DENY\n");
    }
    if rng.random_bool(0.3) {
        out.push_str("    group=wu_admins authenticate(no) bypass_cache(yes)\n");
    }

    let bypass = bypass_properties(rng);
    if rng.random_bool(0.4) {
        out.push_str("\n<Proxy> condition=WU_Hosts\n");
        if exception_in_first_rule {
            out.push_str("    condition=WU_Exceptions authenticate(corp_realm)\n");
        }
        if rng.random_bool(0.3) {
            out.push_str("    client.address=10.1.0.0/16 bypass_cache(yes)\n");
        }
        out.push_str(&format!("    {bypass}\n"));
    } else {
        out.push_str("\n<Proxy>\n");
        if exception_in_first_rule {
            out.push_str("    condition=WU_Exceptions authenticate(corp_realm)\n");
        }
        out.push_str(&format!("    condition=WU_Hosts {bypass}\n"));
    }
    if !exceptions.is_empty() && !exception_in_first_rule {
        let restored = [
            "authenticate(corp_realm)",
            "bypass_cache(no)",
            "request.icap_service(icap_scan)",
        ]
        .choose(rng)
        .copied()
        .unwrap_or("authenticate(corp_realm)");
        out.push_str(&format!(
            "\n<Proxy>\n    condition=WU_Exceptions {restored}\n"
        ));
    }

    let response_icap = rng.random_bool(0.6);
    let cache_no = rng.random_bool(0.3);
    if response_icap || cache_no {
        out.push_str("\n<Cache>\n");
        let mut properties = Vec::new();
        if response_icap {
            properties.push("response.icap_service(no)");
        }
        if cache_no {
            properties.push("cache(no)");
        }
        out.push_str(&format!(
            "    condition=WU_Hosts {}\n",
            properties.join(" ")
        ));
    }
    if rng.random_bool(0.7) {
        out.push_str("\n<SSL-Intercept>\n");
        if !exceptions.is_empty() && rng.random_bool(0.5) {
            out.push_str("    condition=WU_Exceptions ssl.forward_proxy(https)\n");
        }
        out.push_str("    condition=WU_Hosts ssl.forward_proxy(no)\n");
    }
    Generated {
        source: out,
        named_hosts: exceptions.iter().map(|h| (*h).to_owned()).collect(),
    }
}
