//! The HTML page of a load result: the policies side by side in one table, then SVG plots made
//! with plotters — throughput to clients and from the origins (WAN) over time, active machines
//! over time, the distribution of download times, and WAN amplification per policy. One
//! self-contained file; text in the plots is drawn by the browser.

use std::fmt::Write as _;

use plotters::prelude::*;

use crate::model::{LoadReport, PolicyRun};
use crate::options::MIB;

const SIZE: (u32, u32) = (760, 320);
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

pub(crate) fn render(report: &LoadReport) -> String {
    let mut page = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>proxy-conformance load</title><style>\
         body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
         table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}\
         th:first-child,td:first-child{text-align:left}.bad{color:#b00;font-weight:bold}\
         figure{margin:1.5em 0}</style></head><body>\n<h1>Patch Tuesday: load</h1>\n",
    );
    page.push_str(&table(report));
    for (title, svg) in [
        (
            "Throughput to clients",
            series_chart(report, "MiB/s to clients", |s| {
                s.delivered_bytes as f64 / MIB as f64
            }),
        ),
        (
            "WAN: bytes the origins sent",
            series_chart(report, "MiB/s from origins", |s| {
                s.origin_bytes as f64 / MIB as f64
            }),
        ),
        (
            "Active machines",
            series_chart(report, "machines downloading", |s| s.active as f64),
        ),
        ("Download time distribution", latency_chart(report)),
        ("WAN amplification per policy", amplification_chart(report)),
    ] {
        let _ = writeln!(
            page,
            "<figure><figcaption><b>{}</b></figcaption>{svg}</figure>",
            escape(title)
        );
    }
    page.push_str("</body></html>\n");
    page
}

/// How one table cell is written from a run.
type Cell = Box<dyn Fn(&PolicyRun) -> String>;

/// Who ran and how it ended.
fn fleet_rows() -> Vec<(&'static str, Cell)> {
    vec![
        ("workers", Box::new(|r| r.workers.to_string())),
        (
            "machines (DO / BITS)",
            Box::new(|r| {
                format!(
                    "{} ({} / {})",
                    r.fleet.clients, r.fleet.delivery_optimization_clients, r.fleet.bits_clients
                )
            }),
        ),
        ("done", Box::new(|r| r.clients.done.to_string())),
        (
            "failed",
            Box::new(|r| {
                let kinds: Vec<String> = r
                    .failures
                    .iter()
                    .map(|(k, n)| format!("{k} ×{n}"))
                    .collect();
                if r.clients.failed == 0 {
                    "0".into()
                } else {
                    format!(
                        "<span class=bad>{} ({})</span>",
                        r.clients.failed,
                        kinds.join(", ")
                    )
                }
            }),
        ),
        ("unfinished", Box::new(|r| r.clients.unfinished.to_string())),
    ]
}

/// What went over the wire: timings, volumes, amplification.
fn traffic_rows() -> Vec<(&'static str, Cell)> {
    vec![
        (
            "download p50 / p95 / p99 (ms)",
            Box::new(|r| {
                format!(
                    "{} / {} / {}",
                    r.download_ms.p50, r.download_ms.p95, r.download_ms.p99
                )
            }),
        ),
        (
            "throughput to clients (MiB/s)",
            Box::new(|r| format!("{:.1}", r.throughput_mib_s)),
        ),
        (
            "delivered to clients (MiB)",
            Box::new(|r| format!("{:.1}", r.bytes_delivered as f64 / MIB as f64)),
        ),
        (
            "sent by origins (MiB)",
            Box::new(|r| format!("{:.1}", r.origin_bytes as f64 / MIB as f64)),
        ),
        (
            "WAN amplification",
            Box::new(|r| {
                r.amplification
                    .map_or_else(|| "-".into(), |a| format!("<b>{a:.2}</b>"))
            }),
        ),
        (
            "amplification: own updates / shared files",
            Box::new(|r| {
                format!(
                    "{} / {}",
                    ratio(r.per_client_files.amplification),
                    ratio(r.shared_files.amplification)
                )
            }),
        ),
        (
            "requests: clients / origins",
            Box::new(|r| format!("{} / {}", r.client_requests, r.origin_requests)),
        ),
    ]
}

/// What the proxy did that a bypass turns off, and what the run cost.
fn cost_rows() -> Vec<(&'static str, Cell)> {
    vec![
        (
            "ICAP calls / bytes scanned (MiB)",
            Box::new(|r| {
                flagged(
                    r.policing.icap_calls,
                    format!(
                        "{} / {:.1}",
                        r.policing.icap_calls,
                        r.policing.icap_scanned_bytes as f64 / MIB as f64
                    ),
                )
            }),
        ),
        (
            "categorisation lookups",
            Box::new(|r| {
                let n = r.policing.categorisation_lookups;
                flagged(n, n.to_string())
            }),
        ),
        (
            "bumped connections",
            Box::new(|r| {
                r.policing.bumped_connections.map_or_else(
                    || {
                        "<span title=\"the proxy's log is not read (external proxy)\">\
                     not observable</span>"
                            .to_owned()
                    },
                    |n| flagged(n, n.to_string()),
                )
            }),
        ),
        (
            "proxy CPU (s) / peak memory (MiB)",
            Box::new(|r| {
                r.proxy_cost.map_or_else(
                    || {
                        let why = r
                            .proxy_cost_unobservable
                            .as_deref()
                            .unwrap_or("not observable");
                        format!("<span title=\"{}\">not observable</span>", escape(why))
                    },
                    |c| {
                        format!(
                            "{:.1} / {:.0}",
                            c.cpu_seconds,
                            c.peak_memory_bytes as f64 / MIB as f64
                        )
                    },
                )
            }),
        ),
        (
            "harness CPU (s) / peak memory (MiB)",
            Box::new(|r| {
                format!(
                    "{:.1} / {:.0}",
                    r.harness_cost.cpu_seconds,
                    r.harness_cost.peak_memory_bytes as f64 / MIB as f64
                )
            }),
        ),
        ("duration (s)", Box::new(|r| format!("{:.1}", r.duration_s))),
    ]
}

fn table(report: &LoadReport) -> String {
    let mut html = String::from("<table><tr><th>measure</th>");
    for run in &report.runs {
        let _ = write!(html, "<th>{}</th>", escape(&run.policy));
    }
    html.push_str("</tr>\n");
    let rows = fleet_rows()
        .into_iter()
        .chain(traffic_rows())
        .chain(cost_rows());
    for (name, cell) in rows {
        let _ = write!(html, "<tr><td>{name}</td>");
        for run in &report.runs {
            let _ = write!(html, "<td>{}</td>", cell(run));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    html
}

/// A figure that a bypass keeps at zero: marked when it is not.
fn flagged(count: u64, text: String) -> String {
    if count == 0 {
        text
    } else {
        format!("<span class=bad>{text}</span>")
    }
}

fn series_chart(
    report: &LoadReport,
    y_label: &str,
    value: impl Fn(&crate::model::Second) -> f64,
) -> String {
    let x_max = report
        .runs
        .iter()
        .filter_map(|r| r.timeline.last().map(|s| s.t))
        .max()
        .unwrap_or(1)
        .max(1);
    let y_max = report
        .runs
        .iter()
        .flat_map(|r| r.timeline.iter().map(&value))
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let _ = root.fill(&WHITE);
        let chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d(0u64..x_max, 0f64..y_max);
        let Ok(mut chart) = chart else {
            return svg_error();
        };
        let _ = chart
            .configure_mesh()
            .x_desc("seconds")
            .y_desc(y_label)
            .draw();
        for (index, run) in report.runs.iter().enumerate() {
            let color = PALETTE[index % PALETTE.len()];
            let points = run.timeline.iter().map(|s| (s.t, value(s)));
            if let Ok(series) = chart.draw_series(LineSeries::new(points, color.stroke_width(2))) {
                series.label(run.policy.clone()).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
        }
        let _ = chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw();
        let _ = root.present();
    }
    svg
}

fn latency_chart(report: &LoadReport) -> String {
    let histograms: Vec<_> = report.runs.iter().map(PolicyRun::histogram).collect();
    let x_max = histograms
        .iter()
        .flatten()
        .map(|h| h.max())
        .max()
        .unwrap_or(1)
        .max(1) as f64
        / 1000.0
        * 1.05;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let _ = root.fill(&WHITE);
        let chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x_max, 0f64..100f64);
        let Ok(mut chart) = chart else {
            return svg_error();
        };
        let _ = chart
            .configure_mesh()
            .x_desc("download time of a machine (s)")
            .y_desc("% of machines done")
            .draw();
        for (index, (run, histogram)) in report.runs.iter().zip(&histograms).enumerate() {
            let Some(histogram) = histogram.as_ref().filter(|h| !h.is_empty()) else {
                continue;
            };
            let color = PALETTE[index % PALETTE.len()];
            let total = histogram.len() as f64;
            let mut seen = 0u64;
            let mut points = vec![(0.0, 0.0)];
            for bucket in histogram.iter_recorded() {
                seen += bucket.count_at_value();
                points.push((
                    bucket.value_iterated_to() as f64 / 1000.0,
                    seen as f64 / total * 100.0,
                ));
            }
            if let Ok(series) = chart.draw_series(LineSeries::new(points, color.stroke_width(2))) {
                series.label(run.policy.clone()).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
        }
        let _ = chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw();
        let _ = root.present();
    }
    svg
}

fn amplification_chart(report: &LoadReport) -> String {
    let values: Vec<f64> = report
        .runs
        .iter()
        .map(|r| r.amplification.unwrap_or(0.0))
        .collect();
    let y_max = values.iter().copied().fold(1.0f64, f64::max) * 1.15;
    let count = report.runs.len().max(1) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let _ = root.fill(&WHITE);
        let names: Vec<String> = report.runs.iter().map(|r| short_name(&r.policy)).collect();
        let chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d((0u32..count).into_segmented(), 0f64..y_max);
        let Ok(mut chart) = chart else {
            return svg_error();
        };
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_desc("origin bytes / delivered bytes")
            .draw();
        let _ = chart.draw_series(values.iter().enumerate().map(|(i, v)| {
            let color = PALETTE[i % PALETTE.len()];
            let i = i as u32;
            Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), *v),
                ],
                color.mix(0.8).filled(),
            )
        }));
        let _ = chart.draw_series(values.iter().enumerate().map(|(i, v)| {
            Text::new(
                format!("{v:.2}"),
                (SegmentValue::CenterOf(i as u32), *v),
                ("sans-serif", 14).into_font(),
            )
        }));
        // The line a bypass should sit on.
        let _ = chart.draw_series(std::iter::once(PathElement::new(
            [
                (SegmentValue::Exact(0), 1.0),
                (SegmentValue::Exact(count), 1.0),
            ],
            BLACK.stroke_width(1),
        )));
        let _ = root.present();
    }
    svg
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |a| format!("{a:.2}"))
}

fn short_name(policy: &str) -> String {
    policy.rsplit('/').next().unwrap_or(policy).to_owned()
}

fn svg_error() -> String {
    "<p>(plot unavailable)</p>".to_owned()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
