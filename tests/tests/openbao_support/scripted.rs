//! A scripted HTTP server on 127.0.0.1 that stands in front of an upstream server (a real
//! OpenBao) or of nothing: for each request it reads whole (head and body), a script
//! decides to pass it on, answer it itself (a gateway's error, a redirect, a 503), pass it
//! on and cut the connection before the answer comes back (a write the server applied and
//! the client never heard of), or cut it. Every request is recorded, so tests count
//! attempts instead of timing them. It also serves as the HTTP proxy of `http_proxy`: a
//! `CONNECT` opens a tunnel to the upstream server (whatever host it names), and
//! absolute-form request lines (`GET http://host/...`) are passed on in origin form.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the scripted server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `POST`.
    pub method: String,
    /// The path in origin form: `/v1/secret/data/A`.
    pub path: String,
    /// The request line's target as sent (absolute through a proxy).
    pub target: String,
    /// The header lines.
    pub head: String,
    /// The body.
    pub body: String,
}

/// What to do with a request.
pub enum Act {
    /// Pass it to the upstream server, and its answer back.
    Forward,
    /// Answer with this whole HTTP response instead.
    Answer(Vec<u8>),
    /// Pass it on, then close the connection instead of passing the answer back.
    ForwardThenCut,
    /// Close the connection without passing it on.
    Cut,
}

/// A running scripted server; it lives until the test process ends.
pub struct Scripted {
    /// `http://127.0.0.1:port`.
    pub address: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// A switch scripts can read ([`Scripted::set`]).
    pub switch: Arc<AtomicBool>,
}

impl Scripted {
    /// The requests seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests so far match `filter`.
    pub fn count(&self, filter: impl Fn(&Seen) -> bool) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|seen| filter(seen))
            .count()
    }

    /// Turns the switch on or off.
    pub fn set(&self, on: bool) {
        self.switch.store(on, Ordering::SeqCst);
    }
}

/// Starts a scripted server passing requests to `upstream` (`http://127.0.0.1:port`;
/// `None`: nothing upstream, a forward closes the connection). `script` also gets the
/// switch, off at first.
pub fn scripted(
    upstream: Option<&str>,
    script: impl Fn(&Seen, usize, bool) -> Act + Send + Sync + 'static,
) -> Scripted {
    let upstream = upstream.map(|address| address.trim_start_matches("http://").to_owned());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let switch = Arc::new(AtomicBool::new(false));
    let script = Arc::new(script);
    {
        let seen = Arc::clone(&seen);
        let switch = Arc::clone(&switch);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let seen = Arc::clone(&seen);
                let switch = Arc::clone(&switch);
                let script = Arc::clone(&script);
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    serve(client, upstream.as_deref(), &seen, &switch, &*script)
                });
            }
        });
    }
    Scripted {
        address,
        seen,
        switch,
    }
}

fn serve(
    mut client: TcpStream,
    upstream: Option<&str>,
    seen: &Mutex<Vec<Seen>>,
    switch: &AtomicBool,
    script: &(dyn Fn(&Seen, usize, bool) -> Act + Send + Sync),
) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(60)));
    let Some((request, raw_head, body)) = read_request(&mut client) else {
        return;
    };
    let index = {
        let mut seen = seen.lock().unwrap();
        seen.push(request.clone());
        seen.len() - 1
    };
    if request.method == "CONNECT" {
        // A proxy's tunnel (ureq tunnels http:// too): to the upstream, whatever the
        // target, unless the script answers instead.
        if let Act::Answer(response) = script(&request, index, switch.load(Ordering::SeqCst)) {
            let _ = client.write_all(&response);
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        let Some(Ok(server)) = upstream.map(TcpStream::connect) else {
            let _ = client.shutdown(Shutdown::Both);
            return;
        };
        let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        let (mut from_client, mut to_server) =
            (client.try_clone().unwrap(), server.try_clone().unwrap());
        let (mut from_server, mut to_client) = (server, client);
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from_client, &mut to_server);
            let _ = to_server.shutdown(Shutdown::Write);
        });
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Both);
        return;
    }
    match script(&request, index, switch.load(Ordering::SeqCst)) {
        Act::Answer(response) => {
            let _ = client.write_all(&response);
            let _ = client.shutdown(Shutdown::Both);
        }
        Act::Cut => {
            let _ = client.shutdown(Shutdown::Both);
        }
        act @ (Act::Forward | Act::ForwardThenCut) => {
            let Some(upstream) = upstream else {
                let _ = client.shutdown(Shutdown::Both);
                return;
            };
            let Ok(mut server) = TcpStream::connect(upstream) else {
                let _ = client.shutdown(Shutdown::Both);
                return;
            };
            // Origin form, one request per upstream connection.
            let mut head = String::new();
            for (i, line) in raw_head.split("\r\n").enumerate() {
                if i == 0 {
                    head.push_str(&format!("{} {} HTTP/1.1\r\n", request.method, request.path));
                    continue;
                }
                let lower = line.to_ascii_lowercase();
                if line.is_empty()
                    || lower.starts_with("connection:")
                    || lower.starts_with("proxy-")
                {
                    continue;
                }
                head.push_str(line);
                head.push_str("\r\n");
            }
            head.push_str("Connection: close\r\n\r\n");
            if server.write_all(head.as_bytes()).is_err() || server.write_all(&body).is_err() {
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            let mut response = Vec::new();
            let _ = server.read_to_end(&mut response);
            if !matches!(act, Act::ForwardThenCut) {
                let _ = client.write_all(&response);
            }
            // The upstream answer said `Connection: close`; so does this one.
            let _ = client.shutdown(Shutdown::Both);
        }
    }
}

/// One request from `stream`: what the script sees, the raw head, the body.
fn read_request(stream: &mut TcpStream) -> Option<(Seen, String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    let end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buffer[..n]),
        }
    };
    let raw_head = String::from_utf8_lossy(&data[..end]).into_owned();
    let mut body = data[end + 4..].to_vec();
    let length = raw_head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while body.len() < length {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&buffer[..n]),
        }
    }
    let first = raw_head.lines().next().unwrap_or("");
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let path = match target.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(at) => rest[at..].to_owned(),
            None => "/".to_owned(),
        },
        None => target.clone(),
    };
    let seen = Seen {
        method,
        path,
        target,
        head: raw_head.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    Some((seen, raw_head, body))
}
