//! The fleet of one run: which machines there are, which update client each uses, and the
//! files each downloads — its own cumulative update under a per-client name (tailored, so its
//! size differs machine to machine), then the files every machine fetches under one URL
//! (Defender definitions, a Store app). Names are minted with the origin's [`Catalog`] in the
//! real URL shapes of Windows Update; the same options give the same fleet, so policies are
//! compared on identical work.

use std::collections::HashSet;

use mock_servers::{Catalog, CatalogError, HostScope, UrlFamily};

use crate::options::FleetOptions;
use conformance_client::{ClientProfile, TransferPattern};

use crate::profile::FileToFetch;

/// Where BITS machines get their cumulative update, and every machine its shared files.
pub(crate) const DOWNLOAD_HOST: &str = "download.windowsupdate.com";
/// Where Delivery Optimization machines get theirs (HTTP content on `*.tlu.dl.delivery…`).
pub(crate) const DELIVERY_HOST: &str = "7.tlu.dl.delivery.mp.microsoft.com";
/// Families of the shared files, in order: Defender definitions, then Store apps.
const SHARED_FAMILIES: [UrlFamily; 3] = [UrlFamily::Exe, UrlFamily::Appx, UrlFamily::MsixBundle];

/// One simulated machine.
#[derive(Debug, Clone)]
pub(crate) struct MachinePlan {
    pub index: usize,
    pub profile: ClientProfile,
    /// Its own cumulative update first, then the shared files.
    pub files: Vec<FileToFetch>,
    /// `MS-CV` base of a Delivery Optimization machine.
    pub correlation: String,
}

/// Every machine, and the catalogued paths (no query) the fleet downloads.
#[derive(Debug)]
pub(crate) struct FleetPlan {
    pub machines: Vec<MachinePlan>,
    pub paths: HashSet<String>,
    /// Of which shared files.
    pub shared_paths: HashSet<String>,
    pub do_clients: usize,
}

/// Registers the fleet's files in `catalog` and plans every machine.
pub(crate) fn plan(options: &FleetOptions, catalog: &Catalog) -> Result<FleetPlan, CatalogError> {
    let mut paths = HashSet::new();
    let mut shared = Vec::new();
    for index in 0..options.shared_files {
        let family = SHARED_FAMILIES[index % SHARED_FAMILIES.len()];
        let token = format!("fleet-shared-{index}");
        let target = catalog.mint(DOWNLOAD_HOST, family, options.shared_size, &token)?;
        shared.push(file(catalog, DOWNLOAD_HOST, &target, &mut paths, true)?);
    }
    let shared_paths = paths.clone();
    let mut machines = Vec::with_capacity(options.clients);
    let mut do_clients = 0;
    for index in 0..options.clients {
        // Spread evenly: of any run of consecutive machines, `do_percent` % use DO.
        let share = usize::from(options.do_percent);
        let profile = if (index + 1) * share / 100 > index * share / 100 {
            do_clients += 1;
            ClientProfile::DeliveryOptimization
        } else {
            ClientProfile::Bits
        };
        let token = format!("machine-{index:05}");
        let size = tailored_size(options.update_size, index);
        // Delivery Optimization's pieces come from the delivery network, the rest from
        // Windows Update's download host.
        let (host, family) = match profile.transfer() {
            TransferPattern::ProbesThenParallelPieces => (DELIVERY_HOST, UrlFamily::FileStreaming),
            TransferPattern::HeadThenRanges | TransferPattern::WholeObject => {
                (DOWNLOAD_HOST, UrlFamily::MsuD)
            }
        };
        let target = catalog.mint(HostScope::from(host), family, size, &token)?;
        let mut files = vec![file(catalog, host, &target, &mut paths, false)?];
        files.extend(shared.iter().cloned());
        machines.push(MachinePlan {
            index,
            profile,
            files,
            correlation: correlation_vector(index),
        });
    }
    Ok(FleetPlan {
        machines,
        paths,
        shared_paths,
        do_clients,
    })
}

fn file(
    catalog: &Catalog,
    host: &str,
    target: &str,
    paths: &mut HashSet<String>,
    shared: bool,
) -> Result<FileToFetch, CatalogError> {
    let catalogued = catalog
        .file(host, target)
        .ok_or_else(|| CatalogError::UnknownFile(target.to_owned()))?;
    paths.insert(catalogued.path.clone());
    Ok(FileToFetch {
        url: format!("http://{host}{target}"),
        host: host.to_owned(),
        payload: catalogued.payload(),
        shared,
    })
}

/// A machine's cumulative update size: spread evenly over the range by a hash of its index.
fn tailored_size((min, max): (u64, u64), index: usize) -> u64 {
    let spread = max - min + 1;
    let mut z = (index as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    min + (z ^ (z >> 31)) % spread
}

/// A 16-character base64 correlation vector base, as Delivery Optimization sends in `MS-CV`.
fn correlation_vector(index: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state = (index as u64) ^ 0x5DEE_CE66_D1CE_4E5B;
    (0..16)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ALPHABET[(state >> 58) as usize] as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::MIB;

    #[test]
    fn every_machine_gets_its_own_update_and_the_shared_files() {
        let options = FleetOptions {
            clients: 10,
            shared_files: 2,
            ..FleetOptions::default()
        };
        let catalog = Catalog::new();
        let plan = plan(&options, &catalog).unwrap();
        assert_eq!(plan.machines.len(), 10);
        assert_eq!(plan.do_clients, 5);
        let own: HashSet<&str> = plan
            .machines
            .iter()
            .map(|m| m.files[0].url.as_str())
            .collect();
        assert_eq!(own.len(), 10, "per-client names");
        assert_eq!(plan.paths.len(), 12);
        assert_eq!(plan.shared_paths.len(), 2);
        for machine in &plan.machines {
            assert_eq!(machine.files.len(), 3);
            assert_eq!(machine.files[1].url, plan.machines[0].files[1].url);
            let size = machine.files[0].payload.size();
            assert!((2 * MIB..=4 * MIB).contains(&size), "{size}");
            assert!(machine.files[1].url.ends_with("mpam-fe.exe"));
        }
        let sizes: HashSet<u64> = plan
            .machines
            .iter()
            .map(|m| m.files[0].payload.size())
            .collect();
        assert!(sizes.len() > 5, "tailored sizes differ");
    }

    #[test]
    fn the_same_options_give_the_same_fleet() {
        let options = FleetOptions {
            clients: 4,
            ..FleetOptions::default()
        };
        let a = plan(&options, &Catalog::new()).unwrap();
        let b = plan(&options, &Catalog::new()).unwrap();
        let urls = |p: &FleetPlan| -> Vec<String> {
            p.machines.iter().map(|m| m.files[0].url.clone()).collect()
        };
        assert_eq!(urls(&a), urls(&b));
    }
}
