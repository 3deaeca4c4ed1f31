//! The small part of STOMP 1.2 the ActiveMQ statistics exchange needs.
//!
//! Why not a STOMP crate: the maintained ones open their own TLS connection with a
//! fixed root store, so a custom CA bundle (a setting this provider must honour)
//! cannot be used, and the exchange here is four frame types. The codec is a pure
//! function over bytes, bounded in size, and property-tested never to panic.

use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A frame larger than this is a protocol error: a statistics reply is under 2 KiB,
/// and a hostile or confused peer must not make the worker buffer without bound.
pub const MAX_FRAME_BYTES: usize = 256 * 1024;

/// One STOMP frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub command: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a byte stream is not STOMP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame larger than {MAX_FRAME_BYTES} bytes")]
    TooLarge,
    #[error("frame is not UTF-8 in its command or headers")]
    NotUtf8,
    #[error("header line {0:?} has no ':'")]
    BadHeader(String),
    #[error("content-length {0:?} is not a byte count")]
    BadContentLength(String),
    #[error("frame body does not end with NUL")]
    MissingNul,
    #[error("bad escape sequence in header {0:?}")]
    BadEscape(String),
}

impl Frame {
    pub fn new(command: &str) -> Self {
        Self {
            command: command.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The first value of a header (STOMP 1.2: the first occurrence wins).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Serialises the frame. CONNECT headers are not escaped (STOMP 1.2 says so);
    /// all others are.
    pub fn encode(&self) -> Vec<u8> {
        let escape = self.command != "CONNECT";
        let mut out = Vec::with_capacity(64 + self.body.len());
        out.extend_from_slice(self.command.as_bytes());
        out.push(b'\n');
        for (name, value) in &self.headers {
            if escape {
                out.extend_from_slice(escape_header(name).as_bytes());
                out.push(b':');
                out.extend_from_slice(escape_header(value).as_bytes());
            } else {
                out.extend_from_slice(name.as_bytes());
                out.push(b':');
                out.extend_from_slice(value.as_bytes());
            }
            out.push(b'\n');
        }
        if !self.body.is_empty() {
            out.extend_from_slice(format!("content-length:{}\n", self.body.len()).as_bytes());
        }
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out.push(0);
        out
    }
}

fn escape_header(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ':' => out.push_str("\\c"),
            other => out.push(other),
        }
    }
    out
}

fn unescape_header(text: &str) -> Result<String, FrameError> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('c') => out.push(':'),
            _ => return Err(FrameError::BadEscape(text.to_string())),
        }
    }
    Ok(out)
}

/// Takes one complete frame off the front of `buffer`, or `None` if more bytes are
/// needed. Heart-beat end-of-lines between frames are skipped.
pub fn decode(buffer: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
    while matches!(buffer.first(), Some(b'\n' | b'\r')) {
        buffer.advance(1);
    }
    if buffer.is_empty() {
        return Ok(None);
    }
    // The head ends at the first blank line.
    let Some((head_len, separator_len)) = find_blank_line(buffer) else {
        if buffer.len() > MAX_FRAME_BYTES {
            return Err(FrameError::TooLarge);
        }
        return Ok(None);
    };
    let head = std::str::from_utf8(&buffer[..head_len]).map_err(|_| FrameError::NotUtf8)?;
    let (command, headers) = parse_head(head)?;
    let body_start = head_len + separator_len;
    let Some(body_end) = find_body_end(buffer, body_start, &headers)? else {
        return Ok(None);
    };
    let body = buffer[body_start..body_end].to_vec();
    buffer.advance(body_end + 1);
    Ok(Some(Frame {
        command,
        headers,
        body,
    }))
}

/// The command and headers of a frame's head. Header values are unescaped in
/// every frame but `CONNECTED`, which STOMP 1.2 leaves unescaped for STOMP 1.0.
fn parse_head(head: &str) -> Result<(String, Vec<(String, String)>), FrameError> {
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let command = lines.next().unwrap_or_default().to_string();
    let unescaped = command != "CONNECTED";
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| FrameError::BadHeader(line.to_string()))?;
        if unescaped {
            headers.push((unescape_header(name)?, unescape_header(value)?));
        } else {
            headers.push((name.to_string(), value.to_string()));
        }
    }
    Ok((command, headers))
}

/// Where the body starting at `body_start` ends (its NUL), by `content-length`
/// when the head has one, else at the first NUL; `None` if more bytes are needed.
fn find_body_end(
    buffer: &[u8],
    body_start: usize,
    headers: &[(String, String)],
) -> Result<Option<usize>, FrameError> {
    let content_length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| FrameError::BadContentLength(v.clone()))
        })
        .transpose()?;
    match content_length {
        Some(len) if len > MAX_FRAME_BYTES => Err(FrameError::TooLarge),
        Some(len) => {
            let end = body_start + len;
            if buffer.len() <= end {
                Ok(None)
            } else if buffer[end] != 0 {
                Err(FrameError::MissingNul)
            } else {
                Ok(Some(end))
            }
        }
        None => match buffer[body_start..].iter().position(|&b| b == 0) {
            Some(offset) => Ok(Some(body_start + offset)),
            None if buffer.len() > MAX_FRAME_BYTES => Err(FrameError::TooLarge),
            None => Ok(None),
        },
    }
}

/// Position of the head's end and the length of the blank-line separator.
fn find_blank_line(buffer: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < buffer.len() {
        if buffer[i] == b'\n' {
            if buffer.get(i + 1) == Some(&b'\n') {
                return Some((i, 2));
            }
            if buffer.get(i + 1) == Some(&b'\r') && buffer.get(i + 2) == Some(&b'\n') {
                return Some((i, 3));
            }
        }
        i += 1;
    }
    None
}

/// A STOMP connection over any byte stream (TCP or TLS).
pub struct Connection<S> {
    stream: S,
    buffer: BytesMut,
}

/// What went wrong on a STOMP connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not STOMP: {0}")]
    Frame(#[from] FrameError),
    #[error("the broker closed the connection")]
    Closed,
    #[error("no frame within {0:?}")]
    TimedOut(Duration),
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: S) -> Self {
        Self {
            stream,
            buffer: BytesMut::with_capacity(4096),
        }
    }

    pub async fn send(&mut self, frame: &Frame) -> Result<(), ConnectionError> {
        self.stream.write_all(&frame.encode()).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// The next frame, waiting at most until `deadline`.
    pub async fn receive(
        &mut self,
        deadline: tokio::time::Instant,
    ) -> Result<Frame, ConnectionError> {
        loop {
            if let Some(frame) = decode(&mut self.buffer)? {
                return Ok(frame);
            }
            let read = tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buffer));
            match read.await {
                Err(_) => {
                    let waited = deadline.saturating_duration_since(tokio::time::Instant::now());
                    return Err(ConnectionError::TimedOut(waited));
                }
                Ok(Ok(0)) => return Err(ConnectionError::Closed),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Best-effort polite close; errors are irrelevant once the reading is taken.
    pub async fn close(mut self) {
        let _ = self.send(&Frame::new("DISCONNECT")).await;
        let _ = self.stream.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips_escaped_headers_and_bodies() {
        let frame = Frame::new("SEND")
            .header("destination", "/queue/a:b")
            .header("note", "line\nbreak\\");
        let mut frame = frame;
        frame.body = b"{\"x\":1}".to_vec();
        let mut buffer = BytesMut::from(&frame.encode()[..]);
        let mut decoded = decode(&mut buffer).unwrap().unwrap();
        decoded.headers.retain(|(n, _)| n != "content-length");
        assert_eq!(decoded, frame);
        assert!(buffer.is_empty());
    }

    #[test]
    fn waits_for_more_bytes_and_skips_heartbeats() {
        let wire = b"\n\nMESSAGE\ndestination:/temp-queue/x\n\n{\"map\":\"\"}\0\n";
        for cut in 0..wire.len() - 1 {
            let mut partial = BytesMut::from(&wire[..cut]);
            assert_eq!(decode(&mut partial).unwrap(), None, "cut at {cut}");
        }
        let mut whole = BytesMut::from(&wire[..]);
        let frame = decode(&mut whole).unwrap().unwrap();
        assert_eq!(frame.command, "MESSAGE");
        assert_eq!(frame.get("destination"), Some("/temp-queue/x"));
        assert_eq!(frame.body, b"{\"map\":\"\"}");
    }

    #[test]
    fn rejects_oversized_and_malformed_frames() {
        let mut big = BytesMut::from(&vec![b'A'; MAX_FRAME_BYTES + 10][..]);
        assert_eq!(decode(&mut big), Err(FrameError::TooLarge));
        let mut bad = BytesMut::from(&b"MESSAGE\nno-colon\n\n\0"[..]);
        assert!(matches!(decode(&mut bad), Err(FrameError::BadHeader(_))));
        let mut bad = BytesMut::from(&b"MESSAGE\ncontent-length:x\n\n\0"[..]);
        assert!(matches!(
            decode(&mut bad),
            Err(FrameError::BadContentLength(_))
        ));
        let mut bad = BytesMut::from(&b"MESSAGE\ncontent-length:1\n\nab\0"[..]);
        assert_eq!(decode(&mut bad), Err(FrameError::MissingNul));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn decode_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut buffer = BytesMut::from(&bytes[..]);
            // Drain until the decoder asks for more or rejects the stream.
            for _ in 0..100 {
                match decode(&mut buffer) {
                    Ok(Some(_)) => continue,
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }
}
