//! The Windows Update Agent's SOAP endpoint, `POST /ClientWebService/client.asmx`: answers
//! each call (GetConfig, GetCookie, SyncUpdates, GetExtendedUpdateInfo, …) with a small
//! well-formed SOAP envelope naming the operation, as the ASP.NET service does, marked
//! `private` (it is per-client metadata). The request body is read (bounded) and its length
//! reported, so the journal can show the call reached the origin whole.
//!
//! Not a real update service: the answers are empty results. The lab needs the exchange's
//! HTTP shape (method, size, headers, TLS), not update metadata.

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use crate::family::UrlFamily;

/// Largest request body read; the agent's SyncUpdates calls are tens of KiB.
pub(crate) const MAX_REQUEST_BODY: usize = 8 * 1024 * 1024;
const NAMESPACE: &str = "http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService";

/// The answer to one call: response head, body and how many request body bytes were read.
pub(crate) async fn answer(request: Request<Incoming>) -> (Response<()>, Bytes, Option<u64>) {
    let (parts, body) = request.into_parts();
    if parts.method == Method::GET || parts.method == Method::HEAD {
        let page = Bytes::from_static(
            b"<html><head><title>ClientWebService</title></head><body>The following operations are supported.</body></html>",
        );
        return (head(StatusCode::OK, "text/html; charset=utf-8"), page, None);
    }
    if parts.method != Method::POST {
        let mut response = head(StatusCode::METHOD_NOT_ALLOWED, "text/plain");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
        return (response, Bytes::new(), None);
    }
    let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return (
                head(StatusCode::PAYLOAD_TOO_LARGE, "text/plain"),
                Bytes::new(),
                None,
            )
        }
    };
    let read = Some(body.len() as u64);
    let soap12 = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/soap+xml"));
    let content_type = if soap12 {
        "application/soap+xml; charset=utf-8"
    } else {
        "text/xml; charset=utf-8"
    };
    let Some(operation) = operation(&parts.headers, &body) else {
        return (
            head(StatusCode::INTERNAL_SERVER_ERROR, content_type),
            fault("Server did not recognize the value of HTTP Header SOAPAction."),
            read,
        );
    };
    let envelope = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><soap:Body><{operation}Response xmlns=\"{NAMESPACE}\"><{operation}Result /></{operation}Response></soap:Body></soap:Envelope>"
    );
    (
        head(StatusCode::OK, content_type),
        Bytes::from(envelope),
        read,
    )
}

/// The operation called: from `SOAPAction`, the `action` parameter of a SOAP 1.2
/// `Content-Type`, or the first element inside `<…Body>`.
fn operation(headers: &http::HeaderMap, body: &[u8]) -> Option<String> {
    let from_action = |action: &str| {
        let name = action
            .trim()
            .trim_matches('"')
            .rsplit('/')
            .next()?
            .to_owned();
        valid_name(&name).then_some(name)
    };
    if let Some(action) = headers.get("soapaction").and_then(|v| v.to_str().ok()) {
        return from_action(action);
    }
    if let Some(action) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').find_map(|p| p.trim().strip_prefix("action=")))
    {
        return from_action(action);
    }
    let text = String::from_utf8_lossy(body);
    let after_body = text.split_once("Body>")?.1;
    let element = after_body.trim_start().strip_prefix('<')?;
    let name: String = element
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == ':' || *c == '_')
        .collect();
    let local = name.rsplit(':').next()?.to_owned();
    valid_name(&local).then_some(local)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

fn fault(message: &str) -> Bytes {
    Bytes::from(format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>{message}</faultstring></soap:Fault></soap:Body></soap:Envelope>"
    ))
}

fn head(status: StatusCode, content_type: &'static str) -> Response<()> {
    let mut response = Response::new(());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(UrlFamily::ClientWebService.cache_control()),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operation_comes_from_soapaction_or_the_body() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "soapaction",
            HeaderValue::from_static("\"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService/SyncUpdates\""),
        );
        assert_eq!(operation(&headers, b"").as_deref(), Some("SyncUpdates"));
        let body = b"<s:Envelope><s:Body> <GetCookie xmlns=\"x\"/></s:Body></s:Envelope>";
        assert_eq!(
            operation(&http::HeaderMap::new(), body).as_deref(),
            Some("GetCookie")
        );
        let mut soap12 = http::HeaderMap::new();
        soap12.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(
                "application/soap+xml; charset=utf-8; action=\"urn:x/GetConfig\"",
            ),
        );
        assert_eq!(operation(&soap12, b"").as_deref(), Some("GetConfig"));
        assert_eq!(operation(&http::HeaderMap::new(), b"junk"), None);
    }
}
