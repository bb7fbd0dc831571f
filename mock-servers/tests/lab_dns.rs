//! The lab's DNS server answered by a real resolver (hickory-resolver) over UDP and TCP on
//! 127.0.0.1.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use mock_servers::{DnsOutcome, DnsTransport, LabDns};

const LAB_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 80);

async fn lab_dns() -> LabDns {
    LabDns::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        LAB_IP,
        ["download.windowsupdate.com", "ctldl.windowsupdate.com"],
        ["*.dl.delivery.mp.microsoft.com", "update.microsoft.com"],
    )
    .await
    .unwrap()
}

fn resolver(dns: &LabDns, tcp: bool) -> TokioResolver {
    let mut connection = if tcp {
        ConnectionConfig::tcp()
    } else {
        ConnectionConfig::udp()
    };
    connection.port = dns.local_addr().port();
    let server = NameServerConfig::new(IpAddr::from([127, 0, 0, 1]), true, vec![connection]);
    let config = ResolverConfig::from_name_servers(vec![server]);
    let mut options = ResolverOpts::default();
    options.attempts = 1;
    options.timeout = Duration::from_secs(3);
    options.cache_size = 0;
    TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(options)
        .build()
        .unwrap()
}

async fn a_records(resolver: &TokioResolver, name: &str) -> Result<Vec<Ipv4Addr>, String> {
    let lookup = resolver
        .lookup(format!("{name}."), RecordType::A)
        .await
        .map_err(|e| e.to_string())?;
    Ok(lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect())
}

#[tokio::test]
async fn lab_names_resolve_to_the_lab_and_others_are_refused_over_udp() {
    let dns = lab_dns().await;
    let resolver = resolver(&dns, false);
    for name in [
        "download.windowsupdate.com",
        "k3x9.dl.delivery.mp.microsoft.com",
        "a7.k3x9.dl.delivery.mp.microsoft.com",
        "fe2.update.microsoft.com",
        "CtlDl.WindowsUpdate.com",
    ] {
        assert_eq!(a_records(&resolver, name).await, Ok(vec![LAB_IP]), "{name}");
    }
    for name in [
        "www.example.com",
        "dl.delivery.mp.microsoft.com",
        "notwindowsupdate.com",
        "download.windowsupdate.com.example.net",
    ] {
        assert!(a_records(&resolver, name).await.is_err(), "{name} resolved");
    }

    let journal = dns.queries_for("a7.k3x9.dl.delivery.mp.microsoft.com");
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].outcome, DnsOutcome::Answered(LAB_IP));
    assert_eq!(journal[0].record_type, "A");
    assert_eq!(journal[0].transport, DnsTransport::Udp);
    assert!(dns
        .queries_for("notwindowsupdate.com")
        .iter()
        .all(|q| q.outcome == DnsOutcome::Refused));
    assert!(!dns.queries_for("notwindowsupdate.com").is_empty());
}

#[tokio::test]
async fn aaaa_for_a_lab_name_is_an_empty_noerror() {
    let dns = lab_dns().await;
    let resolver = resolver(&dns, false);
    let result = resolver
        .lookup("download.windowsupdate.com.", RecordType::AAAA)
        .await;
    let error = result.expect_err("no AAAA records");
    assert!(error.is_no_records_found(), "{error}");
    assert!(!error.is_nx_domain(), "{error}");
    // A dual-stack lookup still gets the IPv4 address.
    let ips: Vec<IpAddr> = resolver
        .lookup_ip("download.windowsupdate.com.")
        .await
        .unwrap()
        .iter()
        .collect();
    assert_eq!(ips, vec![IpAddr::V4(LAB_IP)]);
    let aaaa: Vec<_> = dns
        .queries_for("download.windowsupdate.com")
        .into_iter()
        .filter(|q| q.record_type == "AAAA")
        .collect();
    assert!(!aaaa.is_empty());
    assert!(aaaa.iter().all(|q| q.outcome == DnsOutcome::NoData));
}

#[tokio::test]
async fn tcp_queries_are_answered_and_names_can_be_added_while_running() {
    let dns = lab_dns().await;
    let resolver = resolver(&dns, true);
    assert!(a_records(&resolver, "late.example.net").await.is_err());
    dns.add_name("late.example.net").unwrap();
    dns.add_wildcard_suffix("*.emdl.ws.microsoft.com").unwrap();
    assert!(dns.serves("x.emdl.ws.microsoft.com"));
    assert_eq!(
        a_records(&resolver, "late.example.net").await,
        Ok(vec![LAB_IP])
    );
    assert_eq!(
        a_records(&resolver, "cdn.emdl.ws.microsoft.com").await,
        Ok(vec![LAB_IP])
    );
    let answered = dns.queries_for("late.example.net");
    assert_eq!(answered.last().unwrap().transport, DnsTransport::Tcp);
    assert_eq!(
        answered.last().unwrap().outcome,
        DnsOutcome::Answered(LAB_IP)
    );
}

#[tokio::test]
async fn an_invalid_name_is_refused_at_start() {
    let result = LabDns::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        LAB_IP,
        ["not a name"],
        Vec::<String>::new(),
    )
    .await;
    assert!(result.is_err());
}
