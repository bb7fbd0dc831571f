//! Microsoft's documented Windows Update host set, each pattern with at least one concrete name the
//! lab serves, and the control hosts the proxy is expected to police.

/// One documented Windows Update host pattern and the concrete names the lab serves for it.
#[derive(Debug, Clone, Copy)]
pub struct HostPattern {
    /// As Microsoft documents it, e.g. `*.update.microsoft.com`.
    pub pattern: &'static str,
    pub names: &'static [&'static str],
}

/// Microsoft's documented Windows Update endpoints.
pub const WINDOWS_UPDATE_HOSTS: &[HostPattern] = &[
    HostPattern {
        pattern: "windowsupdate.microsoft.com",
        names: &["windowsupdate.microsoft.com"],
    },
    HostPattern {
        pattern: "*.windowsupdate.microsoft.com",
        names: &["v4.windowsupdate.microsoft.com"],
    },
    HostPattern {
        pattern: "*.update.microsoft.com",
        names: &["fe2.update.microsoft.com", "sls.update.microsoft.com"],
    },
    HostPattern {
        pattern: "*.windowsupdate.com",
        names: &["www.windowsupdate.com"],
    },
    HostPattern {
        pattern: "download.windowsupdate.com",
        names: &["download.windowsupdate.com"],
    },
    HostPattern {
        pattern: "*.download.windowsupdate.com",
        names: &["au.download.windowsupdate.com"],
    },
    HostPattern {
        pattern: "download.microsoft.com",
        names: &["download.microsoft.com"],
    },
    HostPattern {
        pattern: "wustat.windows.com",
        names: &["wustat.windows.com"],
    },
    HostPattern {
        pattern: "ntservicepack.microsoft.com",
        names: &["ntservicepack.microsoft.com"],
    },
    HostPattern {
        pattern: "*.delivery.mp.microsoft.com",
        names: &["tlu.delivery.mp.microsoft.com"],
    },
    HostPattern {
        pattern: "*.dl.delivery.mp.microsoft.com",
        names: &["7.tlu.dl.delivery.mp.microsoft.com"],
    },
    HostPattern {
        pattern: "*.do.dsp.mp.microsoft.com",
        names: &["geo.prod.do.dsp.mp.microsoft.com"],
    },
    HostPattern {
        pattern: "tsfe.trafficshaping.dsp.mp.microsoft.com",
        names: &["tsfe.trafficshaping.dsp.mp.microsoft.com"],
    },
    HostPattern {
        pattern: "*.emdl.ws.microsoft.com",
        names: &["cdn.emdl.ws.microsoft.com"],
    },
    HostPattern {
        pattern: "ctldl.windowsupdate.com",
        names: &["ctldl.windowsupdate.com"],
    },
];

/// Hosts outside the Windows Update set: the proxy must authenticate, cache, adapt and bump.
pub const CONTROL_HOSTS: &[&str] = &["www.example.com", "downloads.example.net"];

/// Every concrete host name the lab answers for.
pub fn all_lab_host_names() -> Vec<String> {
    WINDOWS_UPDATE_HOSTS
        .iter()
        .flat_map(|p| p.names.iter())
        .chain(CONTROL_HOSTS.iter())
        .map(|n| (*n).to_owned())
        .collect()
}

/// Whether `host` is one of the lab's concrete Windows Update names.
pub fn is_windows_update_host(host: &str) -> bool {
    WINDOWS_UPDATE_HOSTS.iter().any(|p| p.names.contains(&host))
}

/// Whether `host` falls under one of Microsoft's documented Windows Update patterns (a drawn
/// name under a wildcard included): the traffic every run-wide invariant judges.
pub fn is_update_host(host: &str) -> bool {
    WINDOWS_UPDATE_HOSTS
        .iter()
        .any(|p| crate::draw::pattern_matches(p.pattern, host))
}

/// Whether the lab serves `host` at all.
pub fn is_lab_host(host: &str) -> bool {
    is_windows_update_host(host) || CONTROL_HOSTS.contains(&host)
}
