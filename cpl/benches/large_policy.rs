//! Benchmark: `lint`, `explain` and `to-squid` on real-size policies — a 4,000-entry
//! `define url.domain condition`, and a 55,000-line policy (category-size domain lists, a
//! large `[url.domain]` section, subnets and ordinary rules). A plain bench target (no
//! criterion): each operation runs a few times and the fastest run is printed.
//!
//! `cargo bench -p cpl --bench large_policy`

use std::time::{Duration, Instant};

fn domain(i: usize) -> String {
    format!("site{i}.category{}.example", i % 97)
}

/// A policy of about `lines` lines shaped like real category lists.
fn large_policy(lines: usize) -> String {
    let mut policy = String::from("; synthetic: shaped like a category-list policy\n");
    let list = lines * 6 / 10;
    let section = lines * 3 / 10;
    policy.push_str("define url.domain condition Blocked_List\n");
    for i in 0..list {
        policy.push_str(&domain(i));
        policy.push('\n');
    }
    policy.push_str("end\n");
    policy.push_str(
        "define url.domain condition WindowsUpdate\nwindowsupdate.com\nupdate.microsoft.com\ndelivery.mp.microsoft.com\nend\n",
    );
    policy.push_str("define subnet Corp\n10.0.0.0/8\nend\n");
    policy.push_str("<Proxy>\nclient.address=!Corp deny\ncondition=Blocked_List exception(content_filter_denied)\n");
    policy.push_str("condition=WindowsUpdate allow authenticate(no) bypass_cache(yes)\n");
    policy.push_str("<Proxy>\n[url.domain]\n");
    for i in 0..section {
        policy.push_str(&format!(
            "allowed{i}.partner{}.example bypass_cache(yes)\n",
            i % 89
        ));
    }
    let rest = lines.saturating_sub(policy.lines().count());
    policy.push_str("<Cache>\n");
    for i in 0..rest {
        policy.push_str(&format!("url.host=cdn{i}.example.net cache(no)\n"));
    }
    policy
}

fn fastest(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn bench(name: &str, source: &str) {
    let lines = source.lines().count();
    let parse = fastest(3, || {
        cpl::parse(source, "large.cpl").unwrap();
    });
    let policy = cpl::parse(source, "large.cpl").unwrap();
    let lint = fastest(3, || {
        cpl::lint_with(
            &policy,
            &cpl::LintOptions {
                require_windows_update: true,
            },
        );
    });
    let explain = fastest(3, || {
        cpl::explain(&policy, "https://site1234.category70.example/a/b.cab").unwrap();
    });
    let to_squid = fastest(3, || {
        cpl::to_squid(&policy);
    });
    println!(
        "{name:<34} {lines:>6} lines   parse {:>7.1} ms   lint {:>7.1} ms   explain {:>7.1} ms   to-squid {:>7.1} ms",
        parse.as_secs_f64() * 1e3,
        (parse + lint).as_secs_f64() * 1e3,
        (parse + explain).as_secs_f64() * 1e3,
        (parse + to_squid).as_secs_f64() * 1e3,
    );
}

fn main() {
    let mut list = String::from("define url.domain condition Big\n");
    for i in 0..4000 {
        list.push_str(&domain(i));
        list.push('\n');
    }
    list.push_str("end\n<Proxy>\ncondition=Big authenticate(no) bypass_cache(yes)\n");
    println!("(lint, explain and to-squid include parsing the file)");
    bench("4,000-entry url.domain condition", &list);
    bench("55,000-line policy", &large_policy(55_000));
}
