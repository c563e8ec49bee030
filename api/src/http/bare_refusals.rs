//! Every refusal has a problem body (`application/problem+json`), even those no handler
//! writes.
//!
//! Two kinds slip past the handlers. Inside the router, an error answer built by a
//! framework layer may be empty or plain text: [`problem_bodies`] turns any 4xx/5xx that
//! is not already a problem into one, keeping its status and headers. Below the router,
//! hyper answers requests it cannot parse before any service sees them (400 for a bad
//! request line or header, 414 for a target past 65,534 bytes, 431 for headers past its
//! limits) with an empty body, and offers no hook to change it. [`ProblemListener`] wraps
//! each connection so that such an automatic answer, recognised by its exact form (a head
//! alone with `content-length: 0`, which no answer of the router has once
//! [`problem_bodies`] is in place), is written out with a problem body instead.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::body::{Body, to_bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::http::problem::Problem;

/// The most of a framework's error body read to become the problem's detail.
const LARGEST_BARE_BODY: usize = 4096;

/// Middleware: a 4xx/5xx answer that is not a problem becomes one with the same status
/// and headers; its text, when it has some, becomes the detail.
pub async fn problem_bodies(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = to_bytes(body, LARGEST_BARE_BODY)
        .await
        .ok()
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty());
    let problem = Problem::new(
        status,
        kind_of(status),
        text.unwrap_or_else(|| default_detail(status).to_owned()),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    Response::from_parts(parts, Body::from(body)).into_response()
}

fn kind_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "malformed-request",
        StatusCode::URI_TOO_LONG => "uri-too-long",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers-too-large",
        StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
        StatusCode::NOT_FOUND => "unknown-route",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::REQUEST_TIMEOUT => "request-timeout",
        status if status.is_server_error() => "internal",
        _ => "refused",
    }
}

fn default_detail(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => {
            "the request could not be read as HTTP (its method, target, a header or its version)"
        }
        StatusCode::URI_TOO_LONG => {
            "the request's target (path and query) is longer than the server reads (65,534 bytes)"
        }
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            "the request's headers are too many (at most 100) or too large"
        }
        status => status.canonical_reason().unwrap_or("refused"),
    }
}

/// The connections of a [`TcpListener`], each wrapped in a [`ProblemStream`].
pub struct ProblemListener(pub TcpListener);

impl axum::serve::Listener for ProblemListener {
    type Io = ProblemStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, address) = axum::serve::Listener::accept(&mut self.0).await;
        (ProblemStream::new(stream), address)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection whose writes are passed through, except hyper's automatic answers to
/// requests it could not parse, which are written with a problem body.
pub struct ProblemStream<S> {
    inner: S,
    replacing: Option<Replacement>,
}

/// An automatic answer being written in its stead: the bytes, how many are written, and
/// how long the original write was (reported once every byte is out).
struct Replacement {
    bytes: Vec<u8>,
    written: usize,
    original_len: usize,
}

impl<S> ProblemStream<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            replacing: None,
        }
    }
}

/// The problem answer to write instead of `written`, when `written` is exactly one of
/// hyper's automatic answers: an error head alone, with no body.
fn replacement_for(written: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(written).ok()?;
    let head = text.strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let rest = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))?;
    let status = StatusCode::from_bytes(rest.get(..3)?.as_bytes()).ok()?;
    if !matches!(
        status,
        StatusCode::BAD_REQUEST
            | StatusCode::URI_TOO_LONG
            | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    ) {
        return None;
    }
    let mut empty = false;
    let mut date = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        match (name.to_ascii_lowercase().as_str(), value.trim()) {
            ("content-length", "0") => empty = true,
            ("connection", _) => {}
            ("date", value) => date = Some(value),
            _ => return None,
        }
    }
    if !empty {
        return None;
    }
    let problem = Problem::new(status, kind_of(status), default_detail(status));
    let body = serde_json::to_vec(&problem).ok()?;
    let mut answer = format!(
        "HTTP/1.1 {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n",
        &rest,
        body.len()
    );
    if let Some(date) = date {
        answer.push_str(&format!("date: {date}\r\n"));
    }
    answer.push_str("\r\n");
    let mut bytes = answer.into_bytes();
    bytes.extend_from_slice(&body);
    Some(bytes)
}

impl<S: AsyncRead + Unpin> AsyncRead for ProblemStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ProblemStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.replacing.is_none() {
            match replacement_for(buf) {
                Some(bytes) => {
                    self.replacing = Some(Replacement {
                        bytes,
                        written: 0,
                        original_len: buf.len(),
                    })
                }
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        self.poll_replacement(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.replacing.is_none() {
            // An automatic answer is a short head alone; an answer with a body, or a
            // long one, is passed through as it is.
            let total: usize = bufs.iter().map(|buf| buf.len()).sum();
            let replacement = (total <= 512)
                .then(|| {
                    bufs.iter()
                        .flat_map(|buf| buf.iter().copied())
                        .collect::<Vec<u8>>()
                })
                .and_then(|written| replacement_for(&written));
            match replacement {
                Some(bytes) => {
                    self.replacing = Some(Replacement {
                        bytes,
                        written: 0,
                        original_len: total,
                    })
                }
                None => return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs),
            }
        }
        self.poll_replacement(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S: AsyncWrite + Unpin> ProblemStream<S> {
    /// Writes the replacement out; the original write counts as done once it all is.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let replacement = self
            .replacing
            .as_mut()
            .expect("a replacement is being written");
        while replacement.written < replacement.bytes.len() {
            let written = ready!(
                Pin::new(&mut self.inner).poll_write(cx, &replacement.bytes[replacement.written..])
            )?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            replacement.written += written;
        }
        let original_len = replacement.original_len;
        self.replacing = None;
        Poll::Ready(Ok(original_len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyper_s_automatic_answers_get_a_problem_body() {
        let written =
            b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\ndate: Mon, 07 Dec 2026 17:45:10 GMT\r\n\r\n";
        let answer = String::from_utf8(replacement_for(written).unwrap()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        assert!(head.contains("content-type: application/problem+json"));
        assert!(head.contains("date: Mon, 07 Dec 2026 17:45:10 GMT"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let problem: Problem = serde_json::from_str(body).unwrap();
        assert_eq!(problem.status, 414);
    }

    #[test]
    fn any_other_write_is_passed_through() {
        for written in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: 10\r\n\r\n",
            b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\nbody",
            b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n",
            b"{\"status\": 400}",
        ] {
            assert!(
                replacement_for(written).is_none(),
                "{}",
                String::from_utf8_lossy(written)
            );
        }
    }
}

/// The client's address as a connection through [`ProblemListener`] gives it, for
/// `into_make_service_with_connect_info` (the throttle counts failures per address).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress(pub std::net::SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, ProblemListener>>
    for ClientAddress
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, ProblemListener>) -> Self {
        Self(*stream.remote_addr())
    }
}
