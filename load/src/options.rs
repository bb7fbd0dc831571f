//! What a load run is asked to do: the fleet (how many machines, what each downloads, how its
//! update clients fetch), its bounds (duration, bytes), which proxies it goes through (the
//! lab's Squid under one or more policies, or an external proxy), and where reports go.

use std::path::PathBuf;
use std::time::Duration;

use conformance_lab::external::ExternalOptions;

/// 1 MiB: Delivery Optimization's piece size, and BITS's range size here.
pub const MIB: u64 = 1 << 20;

/// The machines of the fleet and what they download.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Simulated machines.
    pub clients: usize,
    /// Smallest and largest cumulative update, tailored per machine (each machine's size is
    /// drawn in between, so sizes differ machine to machine as service packs do).
    pub update_size: (u64, u64),
    /// Size of each file every machine downloads under the same URL (Defender definitions,
    /// a Store app). The default (10 MiB) is above the lab's in-memory object limit (8 MB),
    /// as real update files are above a proxy's: a proxy that widens ranges then cannot hide
    /// the cost behind its memory cache, and the result does not hinge on cache timing.
    pub shared_size: u64,
    /// How many shared files there are.
    pub shared_files: usize,
    /// Delivery Optimization and BITS range size.
    pub piece_size: u64,
    /// Connections a Delivery Optimization client fetches pieces over in parallel.
    pub do_connections: usize,
    /// Share of the fleet that downloads with Delivery Optimization (the rest with BITS), 0–100.
    pub do_percent: u8,
    /// Machines start spread over this long (all at once when zero).
    pub ramp: Duration,
    /// A request fails as a timeout when nothing arrives for this long (no response head, or
    /// no body bytes).
    pub request_timeout: Duration,
}

impl Default for FleetOptions {
    fn default() -> Self {
        Self {
            clients: 1000,
            update_size: (2 * MIB, 4 * MIB),
            shared_size: 10 * MIB,
            shared_files: 1,
            piece_size: MIB,
            do_connections: 4,
            do_percent: 50,
            ramp: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// Where the fleet's traffic goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// The lab's Squid, once per policy, one after the other (same fleet each time); the
    /// bundled reference policy when the list is empty.
    Lab(Vec<PolicySource>),
    /// A proxy the harness did not start (`--proxy URL`): the harness exposes only its side
    /// (origins, DNS, origin CA) and the fleet goes through that proxy.
    External(ExternalOptions),
}

/// A policy to load the lab's proxy with.
#[derive(Debug, Clone)]
pub enum PolicySource {
    /// A Squid fragment under the lab contract.
    Squid(PathBuf),
    /// A ProxySG CPL policy, translated with `cpl to-squid`.
    Cpl(PathBuf),
}

impl PolicySource {
    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::Squid(path) | Self::Cpl(path) => path,
        }
    }
}

/// How the run shows progress on the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStyle {
    /// A live bar on a terminal, plain lines every few seconds elsewhere (CI).
    Auto,
    /// Plain lines only.
    Lines,
    /// Nothing.
    Silent,
}

/// One `load` invocation.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub fleet: FleetOptions,
    pub target: Target,
    /// The run of one policy ends after this long even if machines are still downloading
    /// (they count as unfinished).
    pub duration: Duration,
    /// The run of one policy stops starting requests once clients received this many bytes.
    pub max_bytes: Option<u64>,
    pub json: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub progress: ProgressStyle,
}

impl LoadOptions {
    /// Checks the options that clap cannot.
    pub fn validate(&self) -> Result<(), crate::LoadError> {
        let usage = |m: String| Err(crate::LoadError::Usage(m));
        let fleet = &self.fleet;
        if fleet.clients == 0 {
            return usage("--clients must be at least 1".into());
        }
        if fleet.update_size.0 == 0 || fleet.update_size.0 > fleet.update_size.1 {
            return usage(format!(
                "the update size range {}..{} is empty",
                fleet.update_size.0, fleet.update_size.1
            ));
        }
        if fleet.piece_size == 0 || fleet.do_connections == 0 {
            return usage("--piece-size and --do-connections must be at least 1".into());
        }
        if fleet.do_percent > 100 {
            return usage("--do-percent is a percentage (0-100)".into());
        }
        if self.duration.is_zero() {
            return usage("--duration must be longer than zero".into());
        }
        Ok(())
    }
}
