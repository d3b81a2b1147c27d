//! Clustered data stores proven with the real servers (issue 15, point 5).
//!
//! Each test plans an intent with the builtin planner, takes the
//! configuration out of the rendered manifests (the ConfigMap's scripts and
//! files), and runs one set of processes per pod on this machine:
//! - every pod gets its own loopback address (`Net::pod`, in a block of
//!   127.0.0.0/8 chosen from the process id so concurrent test runs do not
//!   meet) and its own directory, which plays its volume;
//! - the pods' DNS names (`redis-0.redis-headless`) and the Service's name are
//!   rewritten to those addresses in the extracted text, and each server is
//!   bound to its pod's address (in Kubernetes each pod has its own network
//!   namespace; here they share one). Every other rewrite is listed where it
//!   is made;
//! - the Service is `Service`: a TCP proxy on its own address that forwards
//!   each connection to an endpoint still alive, as kube-proxy does;
//! - killing a pod kills its processes (`Pod` also kills them on drop).
//!
//! A test skips with a printed reason when a server binary is absent.

mod redis;
mod zookeeper;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gitintent::intent::Intent;
use gitintent::pipeline::{self, Context, Plan};
use gitintent::plan::Planner;

/// Plans `text` with the builtin planner, as `gitintent plan` does.
pub(crate) async fn plan(text: &str) -> Plan {
    let intent = Intent::new(text, None).unwrap();
    pipeline::run(&intent, &Planner::Builtin, &Context::default())
        .await
        .unwrap()
}

/// The documents of the rendered file whose path ends with `suffix`.
pub(crate) fn documents(plan: &Plan, suffix: &str) -> Vec<serde_json::Value> {
    let file = plan
        .files
        .iter()
        .find(|f| f.path.ends_with(suffix))
        .unwrap_or_else(|| {
            panic!(
                "no {suffix} in {:?}",
                plan.files.iter().map(|f| &f.path).collect::<Vec<_>>()
            )
        });
    gitintent::yaml::values(&file.content).unwrap()
}

/// A ConfigMap's `data` entry.
pub(crate) fn config_entry(plan: &Plan, key: &str) -> String {
    let doc = documents(plan, "configmap.yaml").remove(0);
    doc["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {doc}"))
        .to_string()
}

/// The path of `program` on `PATH`, or where Debian installs it.
pub(crate) fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| PathBuf::from(program));
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Prints why a test did not run; true when every program is present.
pub(crate) fn have(test: &str, programs: &[&str]) -> bool {
    let missing: Vec<&&str> = programs.iter().filter(|p| find_program(p).is_none()).collect();
    if missing.is_empty() {
        return true;
    }
    eprintln!("skipped {test}: {missing:?} not installed (Debian packages: see .ci/run)");
    false
}

/// A block of loopback addresses for one test: `127.B.T.n`.
pub(crate) struct Net {
    block: u8,
    test: u8,
}

impl Net {
    /// `test` tells the tests of one run apart.
    pub(crate) fn new(test: u8) -> Net {
        Net {
            block: 100 + (std::process::id() % 150) as u8,
            test,
        }
    }

    /// The address of pod `ordinal`.
    pub(crate) fn pod(&self, ordinal: usize) -> String {
        format!("127.{}.{}.{}", self.block, self.test, ordinal + 1)
    }

    /// The address of the Service.
    pub(crate) fn service(&self) -> String {
        format!("127.{}.{}.200", self.block, self.test)
    }
}

/// One pod: its name, address, directory (its volume) and processes.
pub(crate) struct Pod {
    pub(crate) name: String,
    pub(crate) ip: String,
    pub(crate) dir: tempfile::TempDir,
    children: Vec<Child>,
}

impl Pod {
    pub(crate) fn new(name: String, ip: String) -> Pod {
        Pod {
            name,
            ip,
            dir: tempfile::tempdir().unwrap(),
            children: Vec::new(),
        }
    }

    pub(crate) fn path(&self, file: &str) -> String {
        self.dir.path().join(file).display().to_string()
    }

    /// Runs `script` with `sh` in the pod's directory, output to `<log>.log`.
    pub(crate) fn run(&mut self, log: &str, script: &str, env: &[(&str, &str)]) {
        let script_path = self.path(&format!("{log}.sh"));
        std::fs::write(&script_path, script).unwrap();
        let out = std::fs::File::create(self.path(&format!("{log}.log"))).unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new("sh")
            .arg(&script_path)
            .current_dir(self.dir.path())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap();
        self.children.push(child);
    }

    /// A process's log, for failure messages.
    pub(crate) fn log(&self, log: &str) -> String {
        std::fs::read_to_string(self.path(&format!("{log}.log"))).unwrap_or_default()
    }

    /// Kills every process of the pod, as a node failure would.
    pub(crate) fn kill(&mut self) {
        for mut c in self.children.drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A Service: forwards each connection on `ip:port` to the first endpoint
/// that accepts it, as kube-proxy forwards to ready endpoints.
pub(crate) struct Service {
    endpoints: Arc<Mutex<Vec<SocketAddr>>>,
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl Service {
    pub(crate) fn start(ip: &str, port: u16) -> Service {
        let listener = TcpListener::bind((ip, port)).unwrap();
        let addr = listener.local_addr().unwrap();
        let endpoints: Arc<Mutex<Vec<SocketAddr>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (eps, halt) = (endpoints.clone(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let list = eps.lock().unwrap().clone();
                std::thread::spawn(move || forward(client, &list));
            }
        });
        Service {
            endpoints,
            stop,
            addr,
        }
    }

    pub(crate) fn set_endpoints(&self, endpoints: &[String]) {
        *self.endpoints.lock().unwrap() = endpoints.iter().map(|e| e.parse().unwrap()).collect();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// Copies both ways between `client` and the first endpoint that answers;
/// with none, the connection is closed (a Service without endpoints).
fn forward(client: TcpStream, endpoints: &[SocketAddr]) {
    let Some(server) = endpoints
        .iter()
        .find_map(|e| TcpStream::connect_timeout(e, Duration::from_millis(300)).ok())
    else {
        return;
    };
    let pipe = |mut from: TcpStream, mut to: TcpStream| {
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 || to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        })
    };
    let a = pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
    let b = pipe(server, client);
    let _ = a.join();
    let _ = b.join();
}

/// Polls `check` every 250 ms until it returns `Some` or `limit` passes.
pub(crate) fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Sends `text` to `addr` and reads the answer until the server closes
/// (ZooKeeper's four-letter words), bounded by a second.
pub(crate) fn ask(addr: &str, text: &str) -> Option<String> {
    let addr: SocketAddr = addr.parse().ok()?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    s.write_all(text.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// Runs a client program with a time limit; its stdout and stderr.
pub(crate) fn client(program: &Path, args: &[&str], limit: Duration) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}
