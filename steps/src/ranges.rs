//! Byte ranges as BITS and Delivery Optimization use them: HEAD for the size, consecutive
//! ranged GETs, suffix and open ranges, `If-Range` resumption and multi-range requests — each
//! checked at the client (status, `Content-Range`, exact bytes) and at the origin (the same
//! `Range` arrived; no more bytes were sent than asked).

use conformance_model::Property;
use cucumber::{then, when};
use mock_servers::{OriginRequest, RangeRequest};

use conformance_client::{Exchange, MemoryReport, MemoryWatch};

use crate::client::Ask;
use crate::parameters::{Scheme, Size};
use crate::world::ConformanceWorld;

/// Allowance for a `multipart/byteranges` part's boundary and headers (about 120 bytes each).
const MULTIPART_FRAMING_PER_PART: u64 = 256;

#[when(expr = "a BITS client asks for bytes {int}-{int} of that file over {scheme}")]
async fn a_bits_client_asks_for_bytes(
    world: &mut ConformanceWorld,
    first: u64,
    last: u64,
    scheme: Scheme,
) -> Result<(), String> {
    world
        .fetch(Ask::bits(scheme).with_range(format!("bytes={first}-{last}")))
        .await?;
    Ok(())
}

#[when(expr = "a BITS client asks for the range {string} of that file over {scheme}")]
async fn a_bits_client_asks_for_the_range(
    world: &mut ConformanceWorld,
    range: String,
    scheme: Scheme,
) -> Result<(), String> {
    if RangeRequest::parse_header(&range).is_none() {
        return Err(format!("{range:?} is not a Range header value (bytes=…)"));
    }
    world.fetch(Ask::bits(scheme).with_range(range)).await?;
    Ok(())
}

#[when(expr = "a BITS client downloads that file over {scheme} in {size} ranges")]
async fn a_bits_client_downloads_in_ranges(
    world: &mut ConformanceWorld,
    scheme: Scheme,
    chunk: Size,
) -> Result<(), String> {
    world.download_in_ranges(scheme, 0, chunk.0).await
}

#[when(expr = "an update client downloads the whole file over {scheme} in one request")]
async fn an_update_client_downloads_the_whole_file(
    world: &mut ConformanceWorld,
    scheme: Scheme,
) -> Result<(), String> {
    let watch = MemoryWatch::start();
    world
        .fetch(Ask::get(scheme, crate::parameters::Credentials::Without))
        .await?;
    world.memory = Some(watch.stop());
    Ok(())
}

#[when(
    expr = "an update client starts a whole-file download of that file over {scheme} and reads its first {size}"
)]
async fn an_update_client_starts_a_whole_file_download(
    world: &mut ConformanceWorld,
    scheme: Scheme,
    prefix: Size,
) -> Result<(), String> {
    let watch = MemoryWatch::start();
    let ask = Ask::get(scheme, crate::parameters::Credentials::Without).reading_only(prefix.0);
    world.fetch(ask).await?;
    world.memory = Some(watch.stop());
    Ok(())
}

#[then(expr = "it receives status 200 announcing the whole file, and its first {size} intact")]
async fn it_receives_the_whole_files_head(
    world: &mut ConformanceWorld,
    prefix: Size,
) -> Result<(), String> {
    world.checks(None);
    let exchange = world.last_exchange()?;
    let size = world.served()?.size;
    match whole_file_head_problem(exchange, size, prefix.0) {
        Some((expected, actual)) => Err(world.failure(expected, actual)),
        None => Ok(()),
    }
}
proven_by!(
    it_receives_the_whole_files_head,
    "an_error_page_a_cut_length_or_corrupt_head_is_not_the_whole_file"
);

/// Why a whole-file GET of a `size`-byte file, read for its first `prefix` bytes, does not
/// show the proxy passing the whole file on, if it does not: 200 with `Content-Length: size`
/// (a body-size limit answers with an error page instead, or cuts the length), and at least
/// `prefix` bytes that match the file.
fn whole_file_head_problem(
    exchange: &Exchange,
    size: u64,
    prefix: u64,
) -> Option<(String, String)> {
    let expected = format!("200 with Content-Length {size} and the file's first {prefix} bytes");
    let Some(response) = exchange.response() else {
        return Some((expected, exchange.to_string()));
    };
    let announced = response
        .header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    let intact = response.body_mismatch.is_none() && response.body_len >= prefix.min(size);
    (response.status != 200 || announced != Some(size) || !intact)
        .then(|| (expected, exchange.to_string()))
}

#[when(expr = "a BITS client downloads that file from byte {int} over {scheme} in {size} ranges")]
async fn a_bits_client_downloads_from_in_ranges(
    world: &mut ConformanceWorld,
    start: u64,
    scheme: Scheme,
    chunk: Size,
) -> Result<(), String> {
    world.download_in_ranges(scheme, start, chunk.0).await
}

#[when(
    regex = r"^a BITS client resumes that file from byte (\d+) over (HTTPS|HTTP) with (its|a stale) ETag in If-Range$"
)]
async fn a_bits_client_resumes(
    world: &mut ConformanceWorld,
    start: u64,
    scheme: Scheme,
    which: String,
) -> Result<(), String> {
    let etag = match which.as_str() {
        "its" => world.learn_size_and_etag(scheme).await?.1,
        _ => "\"stale-etag-from-an-earlier-download\"".to_owned(),
    };
    world
        .fetch(
            Ask::bits(scheme)
                .with_range(format!("bytes={start}-"))
                .with_header("if-range", etag),
        )
        .await?;
    Ok(())
}

/// Whether `first` is a HEAD answered with the file's exact size (BITS's first request: a
/// proxy that answers HEAD from a stale copy or drops Content-Length breaks the download plan).
fn head_told_the_size(first: &Exchange, size: u64) -> bool {
    let length = first
        .response()
        .and_then(|r| r.header("content-length"))
        .and_then(|v| v.parse::<u64>().ok());
    first.method == "HEAD" && length == Some(size)
}

/// The body bytes a ranged request may cost at the origin: the ranges asked for, plus the
/// framing of each part when several were asked for.
fn asked_bytes(exchange: &Exchange, size: u64) -> u64 {
    let resolved = exchange.requested_ranges(size);
    let asked: u64 = resolved.iter().map(|r| r.len()).sum();
    if resolved.len() > 1 {
        asked + MULTIPART_FRAMING_PER_PART * resolved.len() as u64
    } else {
        asked
    }
}

/// What is wrong with a single-range answer, if anything.
fn single_range_problems(exchange: &Exchange, size: u64, status: u16) -> Vec<String> {
    let Some(response) = exchange.response() else {
        return vec![format!("no response: {exchange}")];
    };
    let Some(&requested) = exchange.requested_ranges(size).first() else {
        return vec![format!(
            "{:?} is not a satisfiable range of {size} bytes",
            exchange.range
        )];
    };
    let expected_content_range = requested.content_range(size);
    [
        (response.status != status)
            .then(|| format!("status {} instead of {status}", response.status)),
        (response.header("content-range") != Some(expected_content_range.as_str())).then(|| {
            format!(
                "Content-Range {:?} instead of {expected_content_range:?}",
                response.header("content-range")
            )
        }),
        (response.body_len != requested.len()).then(|| {
            format!(
                "{} body bytes instead of {}",
                response.body_len,
                requested.len()
            )
        }),
        response
            .body_mismatch
            .map(|offset| format!("bytes differ from the file from body offset {offset}")),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[then(expr = "it receives {int} with exactly those bytes")]
async fn it_receives_exactly_those_bytes(
    world: &mut ConformanceWorld,
    status: u16,
) -> Result<(), String> {
    world.checks(Some(Property::Range));
    let exchange = world.last_exchange()?;
    let size = world.served()?.size;
    let problems = single_range_problems(exchange, size, status);
    if !problems.is_empty() {
        return Err(world.failure(
            format!("{status} with exactly the bytes of {:?}", exchange.range),
            problems.join("; "),
        ));
    }
    Ok(())
}

#[then("it receives the whole file with status 200")]
async fn it_receives_the_whole_file(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(None);
    let exchange = world.last_exchange()?;
    let size = world.served()?.size;
    if !exchange.delivered_whole_file(size) {
        return Err(world.failure(
            format!("200 with the whole {size}-byte file"),
            exchange.to_string(),
        ));
    }
    Ok(())
}

#[then("it receives 206 multipart/byteranges with exactly those ranges")]
async fn it_receives_multipart_byteranges(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Range));
    let exchange = world.last_exchange()?;
    let size = world.served()?.size;
    let requested = exchange.requested_ranges(size);
    if requested.len() < 2 {
        return Err(format!(
            "{:?} does not ask for several satisfiable ranges",
            exchange.range
        ));
    }
    let Some(response) = exchange.response() else {
        return Err(world.failure("206 multipart/byteranges", exchange.to_string()));
    };
    let mut problems = Vec::new();
    if response.status != 206 {
        problems.push(format!("status {} instead of 206", response.status));
    }
    let content_type = response.header("content-type").unwrap_or_default();
    if !content_type.starts_with("multipart/byteranges") {
        problems.push(format!("Content-Type {content_type:?}"));
    }
    if response.parts.len() != requested.len() {
        problems.push(format!(
            "{} parts instead of {}",
            response.parts.len(),
            requested.len()
        ));
    }
    for (part, range) in response.parts.iter().zip(&requested) {
        let expected = range.content_range(size);
        if part.content_range.as_deref() != Some(expected.as_str())
            || part.len != range.len()
            || part.mismatch.is_some()
        {
            problems.push(format!("part {part} instead of [{expected}: exact bytes]"));
        }
    }
    if !problems.is_empty() {
        let expected: Vec<String> = requested.iter().map(|r| r.content_range(size)).collect();
        return Err(world.failure(
            format!("206 multipart/byteranges with parts {expected:?}"),
            problems.join("; "),
        ));
    }
    Ok(())
}

#[then("every range came back 206 with its exact bytes")]
async fn every_range_came_back_exact(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Range));
    let size = world.served()?.size;
    let ranged = world.ranged_exchanges()?;
    for exchange in ranged {
        let problems = single_range_problems(exchange, size, 206);
        if !problems.is_empty() {
            return Err(world.failure(
                format!("206 with exactly the bytes of {:?}", exchange.range),
                problems.join("; "),
            ));
        }
    }
    Ok(())
}

#[then(expr = "the ranges covered the file from byte {int} to its end")]
async fn the_ranges_covered_the_file(
    world: &mut ConformanceWorld,
    start: u64,
) -> Result<(), String> {
    world.checks(Some(Property::Range));
    let size = world.served()?.size;
    // Pieces may arrive in any order (Delivery Optimization fetches them in parallel) and
    // overlap (its 0-1 probes): sorted by first byte, each must start at or before the end of
    // what is already covered.
    let mut pieces: Vec<(u64, u64, &Exchange)> = Vec::new();
    for exchange in world.ranged_exchanges()? {
        let first = exchange
            .response()
            .and_then(|r| r.header("content-range"))
            .and_then(|v| v.strip_prefix("bytes "))
            .and_then(|v| v.split('-').next())
            .and_then(|v| v.parse::<u64>().ok());
        let Some(first) = first else {
            return Err(world.failure("a Content-Range on every range", exchange.to_string()));
        };
        pieces.push((
            first,
            exchange.response().map_or(0, |r| r.body_len),
            exchange,
        ));
    }
    pieces.sort_by_key(|(first, _, _)| *first);
    let mut next = start;
    for (first, len, exchange) in pieces {
        if first > next {
            return Err(world.failure(
                format!("a range starting at or before byte {next}"),
                exchange.to_string(),
            ));
        }
        next = next.max(first + len);
    }
    if next != size {
        return Err(world.failure(
            format!("bytes {start}..{size} reassembled"),
            format!("bytes {start}..{next}"),
        ));
    }
    Ok(())
}

#[then("the client learned the size and ETag with HEAD first")]
async fn the_client_learned_the_size_with_head(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Range));
    let size = world.served()?.size;
    let first = world.exchanges.first().ok_or("no client made a request")?;
    if !head_told_the_size(first, size) {
        return Err(world.failure(
            format!("HEAD answered with Content-Length: {size}"),
            first.to_string(),
        ));
    }
    Ok(())
}
proven_by!(
    the_client_learned_the_size_with_head,
    "a_head_without_the_files_size_or_a_get_first_fails"
);

#[then(expr = "the origin received the Range header {string}")]
async fn the_origin_received_the_range_header(
    world: &mut ConformanceWorld,
    range: String,
) -> Result<(), String> {
    world.checks(Some(Property::Range));
    let requests = world.origin_requests()?;
    let ranges: Vec<Option<&str>> = requests.iter().map(|r| r.header("range")).collect();
    if requests.is_empty() || ranges.iter().any(|r| *r != Some(range.as_str())) {
        return Err(world.failure(
            format!("every origin request with Range: {range}"),
            format!("{ranges:?}"),
        ));
    }
    Ok(())
}

#[then("the origin received every Range header unchanged")]
async fn the_origin_received_every_range_unchanged(
    world: &mut ConformanceWorld,
) -> Result<(), String> {
    world.checks(Some(Property::Range));
    let ranged = world.ranged_exchanges()?;
    for exchange in ranged {
        let at_origin = world.origin_requests_for(exchange);
        let seen: Vec<Option<&str>> = at_origin.iter().map(|r| r.header("range")).collect();
        if seen != [exchange.range.as_deref()] {
            return Err(world.failure(
                format!("one origin request with Range: {:?}", exchange.range),
                format!("{seen:?} for {exchange}"),
            ));
        }
    }
    Ok(())
}

#[then(expr = "the origin sent at most {size} for that request")]
async fn the_origin_sent_at_most(world: &mut ConformanceWorld, limit: Size) -> Result<(), String> {
    world.checks(Some(Property::Range));
    let requests = world.origin_requests()?;
    match origin_overspend(&requests, limit.0) {
        Some((expected, actual)) => Err(world.failure(expected, actual)),
        None => Ok(()),
    }
}
proven_by!(
    the_origin_sent_at_most,
    "a_widened_range_costs_more_than_asked_and_fails"
);

/// Why the origin's answers to `requests` cost more than `limit` body bytes, if they did (an
/// empty set is a failure too: nothing reached the origin).
fn origin_overspend(requests: &[OriginRequest], limit: u64) -> Option<(String, String)> {
    if requests.is_empty() {
        return Some((
            "the request to reach the origin".to_owned(),
            "the origin saw no request for the file".to_owned(),
        ));
    }
    let sent: u64 = requests.iter().map(|r| r.bytes_sent).sum();
    (sent > limit).then(|| {
        (
            format!("at most {limit} body bytes sent by the origin"),
            format!("{sent} bytes in {} origin request(s)", requests.len()),
        )
    })
}

#[then("the origin sent no more bytes than each range asked for")]
async fn the_origin_sent_no_more_than_asked(world: &mut ConformanceWorld) -> Result<(), String> {
    world.checks(Some(Property::Range));
    let size = world.served()?.size;
    let ranged = world.ranged_exchanges()?;
    for exchange in ranged {
        let at_origin = world.origin_requests_for(exchange);
        if let Some((expected, actual)) = origin_overspend(&at_origin, asked_bytes(exchange, size))
        {
            return Err(world.failure(
                format!("{expected} for {:?}", exchange.range),
                format!("{actual} for {exchange}"),
            ));
        }
    }
    Ok(())
}
proven_by!(
    the_origin_sent_no_more_than_asked,
    "a_widened_range_costs_more_than_asked_and_fails"
);

#[then(expr = "the harness's memory grew by less than {size} during the download")]
async fn the_memory_stayed_flat(world: &mut ConformanceWorld, limit: Size) -> Result<(), String> {
    world.checks(Some(Property::Range));
    let report = world
        .memory
        .ok_or("no download was measured: use a download step that measures memory first")?;
    match memory_problem(&report, limit.0) {
        Some((expected, actual)) => Err(world.failure(expected, actual)),
        None => Ok(()),
    }
}
proven_by!(
    the_memory_stayed_flat,
    "a_download_held_in_memory_or_never_sampled_fails"
);

/// Why a download's memory does not show it streamed, if it does not: no sample taken (a
/// judgement over nothing), or growth at or above `limit`.
fn memory_problem(report: &MemoryReport, limit: u64) -> Option<(String, String)> {
    if report.samples == 0 {
        return Some((
            "resident memory sampled during the download".to_owned(),
            "no sample (no /proc/self/status?)".to_owned(),
        ));
    }
    (report.growth() >= limit).then(|| {
        (
            format!("resident memory growth below {limit} bytes"),
            report.to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use mock_servers::{OriginRequest, Scheme};

    use conformance_client::MemoryReport;

    use conformance_client::{
        ClientResponse, Credentials, Exchange, Outcome, Scheme as ClientScheme,
    };

    use super::{head_told_the_size, memory_problem, origin_overspend, whole_file_head_problem};

    fn answered(method: &str, content_length: Option<&str>) -> Exchange {
        Exchange {
            method: method.into(),
            url: "http://download.windowsupdate.com/updates/1024/s1/kb.psf".into(),
            scheme: ClientScheme::Http,
            credentials: Credentials::Without,
            range: None,
            extra_headers: Vec::new(),
            request_token: "s1-r1".into(),
            outcome: Outcome::Response(ClientResponse {
                status: 200,
                headers: content_length
                    .map(|l| vec![("content-length".to_owned(), l.to_owned())])
                    .unwrap_or_default(),
                body_len: 0,
                body_mismatch: None,
                issuer: None,
                leaf: None,
                parts: Vec::new(),
                stopped_reading: false,
            }),
        }
    }

    #[test]
    fn a_head_without_the_files_size_or_a_get_first_fails() {
        assert!(head_told_the_size(&answered("HEAD", Some("1024")), 1024));
        assert!(!head_told_the_size(&answered("HEAD", Some("1000")), 1024));
        assert!(!head_told_the_size(&answered("HEAD", None), 1024));
        assert!(!head_told_the_size(&answered("GET", Some("1024")), 1024));
    }

    #[test]
    fn a_download_held_in_memory_or_never_sampled_fails() {
        let flat = MemoryReport {
            before: 40 << 20,
            peak: 44 << 20,
            samples: 200,
        };
        assert!(memory_problem(&flat, 32 << 20).is_none());
        let buffered = MemoryReport {
            peak: 340 << 20,
            ..flat
        };
        assert!(memory_problem(&buffered, 32 << 20).is_some());
        let unsampled = MemoryReport { samples: 0, ..flat };
        assert!(memory_problem(&unsampled, 32 << 20).is_some());
    }

    fn sent(bytes: u64) -> OriginRequest {
        OriginRequest {
            connection: 1,
            scheme: Scheme::Http,
            method: "GET".into(),
            target: "/updates/4194304/s1/kb.psf".into(),
            host: "download.windowsupdate.com".into(),
            headers: Vec::new(),
            status: 206,
            bytes_sent: bytes,
        }
    }

    #[test]
    fn an_error_page_a_cut_length_or_corrupt_head_is_not_the_whole_file() {
        use crate::fixtures::exchange;
        let size = 3 << 30;
        let with = |status: u16, length: u64, read: u64, mismatch: Option<u64>| {
            let mut e = exchange("s1-r1", status);
            if let conformance_client::Outcome::Response(r) = &mut e.outcome {
                r.headers
                    .push(("content-length".into(), length.to_string()));
                r.body_len = read;
                r.body_mismatch = mismatch;
            }
            e
        };
        let prefix = 64 << 20;
        assert!(
            whole_file_head_problem(&with(200, size, prefix + 1, None), size, prefix).is_none()
        );
        assert!(whole_file_head_problem(&with(403, 3_900, 3_900, None), size, prefix).is_some());
        assert!(
            whole_file_head_problem(&with(200, 1 << 30, prefix + 1, None), size, prefix).is_some()
        );
        assert!(whole_file_head_problem(&with(200, size, 1024, None), size, prefix).is_some());
        assert!(
            whole_file_head_problem(&with(200, size, prefix + 1, Some(7)), size, prefix).is_some()
        );
    }

    #[test]
    fn a_widened_range_costs_more_than_asked_and_fails() {
        assert!(origin_overspend(&[sent(1 << 20)], 1 << 20).is_none());
        let (_, actual) = origin_overspend(&[sent(4 << 20)], 1 << 20).expect("overspend");
        assert!(actual.contains("4194304 bytes"), "{actual}");
        // A widened range split into two origin requests is summed.
        assert!(origin_overspend(&[sent(1 << 20), sent(1)], 1 << 20).is_some());
    }

    #[test]
    fn nothing_at_the_origin_is_a_failure_not_a_pass() {
        assert!(origin_overspend(&[], 1 << 20).is_some());
    }
}
