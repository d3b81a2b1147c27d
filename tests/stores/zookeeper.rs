//! "zookeeper with 3 replicas": an ensemble from the rendered `zoo.cfg` and
//! start script (which writes `myid` from the pod ordinal). A write through
//! the Service works; after the leader's pod is killed the two left elect a
//! new leader and a write through the same Service works again.

use std::path::PathBuf;
use std::time::Duration;

use super::{ask, client, config_entry, have, plan, wait_for, Net, Pod, Service};

const PODS: usize = 3;
const JAR: &str = "/usr/share/java/zookeeper.jar";
const CLI: &str = "/usr/share/zookeeper/bin/zkCli.sh";

/// `zoo.cfg` of one pod: `zk-N.zk-headless` by the pods' addresses,
/// `/data` (the volume) by the pod's directory, and the client port bound
/// to the pod's address (`clientPortAddress`).
fn adapt_cfg(cfg: &str, pod: &Pod, net: &Net) -> String {
    let mut s = cfg.replace("dataDir=/data", &format!("dataDir={}", pod.dir.path().display()));
    for k in 0..PODS {
        s = s.replace(&format!("zookeeper-{k}.zookeeper-headless"), &net.pod(k));
    }
    s + &format!("clientPortAddress={}\n", pod.ip)
}

/// The start script of one pod: `/data` by the pod's directory, and the
/// image's launcher (`zkServer.sh --config /config start-foreground`, which
/// Debian's script does not take) by the same JVM main class on Debian's jar.
fn adapt_start(script: &str, pod: &Pod) -> String {
    let launcher = format!(
        "exec java -Xmx256m -cp {}:{JAR} org.apache.zookeeper.server.quorum.QuorumPeerMain {}",
        pod.dir.path().display(),
        pod.path("zoo.cfg")
    );
    script
        .replace("/data/myid", &pod.path("myid"))
        .replace("exec zkServer.sh --config /config start-foreground", &launcher)
}

fn mode(ip: &str) -> Option<String> {
    let out = ask(&format!("{ip}:2181"), "srvr")?;
    out.lines()
        .find_map(|l| l.strip_prefix("Mode: "))
        .map(|m| m.trim().to_string())
}

/// A write through the Service with ZooKeeper's own client.
fn create(cli: &std::path::Path, net: &Net, node: &str) -> bool {
    let server = format!("{}:2181", net.service());
    let out = client(
        cli,
        &["-server", &server, "create", node, "v"],
        Duration::from_secs(20),
    );
    out.contains(&format!("Created {node}")) || out.contains("Node already exists")
}

#[tokio::test(flavor = "multi_thread")]
async fn zookeeper_ensemble_of_3_survives_losing_its_leader() {
    if !have("zookeeper ensemble", &["java", JAR, CLI]) {
        return;
    }
    let plan = plan("zookeeper with 3 replicas in staging").await;
    assert!(
        !plan
            .findings
            .iter()
            .any(|f| f.severity == gitintent::finding::Severity::Error),
        "{:?}",
        plan.findings
    );
    let (cfg, start) = (config_entry(&plan, "zoo.cfg"), config_entry(&plan, "start.sh"));
    let logback = config_entry(&plan, "logback.xml");

    let net = Net::new(2);
    let svc = Service::start(&net.service(), 2181);
    let mut pods: Vec<Pod> = (0..PODS)
        .map(|i| Pod::new(format!("zookeeper-{i}"), net.pod(i)))
        .collect();
    for pod in &mut pods {
        std::fs::write(pod.path("zoo.cfg"), adapt_cfg(&cfg, pod, &net)).unwrap();
        std::fs::write(pod.path("logback.xml"), &logback).unwrap();
        let script = adapt_start(&start, pod);
        let name = pod.name.clone();
        pod.run("zookeeper", &script, &[("HOSTNAME", &name)]);
    }
    for (i, pod) in pods.iter().enumerate() {
        let myid = wait_for(Duration::from_secs(10), || {
            // The script may have created the file but not yet written it.
            std::fs::read_to_string(pod.path("myid"))
                .ok()
                .filter(|s| !s.trim().is_empty())
        });
        assert_eq!(myid.as_deref().map(str::trim), Some((i + 1).to_string().as_str()));
    }
    svc.set_endpoints(
        &(0..PODS)
            .map(|i| format!("{}:2181", net.pod(i)))
            .collect::<Vec<_>>(),
    );

    // The ensemble formed: one leader, two followers.
    let modes = || (0..PODS).map(|i| mode(&net.pod(i))).collect::<Vec<_>>();
    let formed = wait_for(Duration::from_secs(60), || {
        let m = modes();
        let leaders = m.iter().filter(|m| m.as_deref() == Some("leader")).count();
        let followers = m.iter().filter(|m| m.as_deref() == Some("follower")).count();
        (leaders == 1 && followers == 2).then_some(m)
    });
    assert!(
        formed.is_some(),
        "no ensemble: {:?}\n{}",
        modes(),
        pods[0].log("zookeeper")
    );
    let cli = PathBuf::from(CLI);
    assert!(create(&cli, &net, "/before"), "no write through the Service");

    // The leader's pod dies; its endpoint leaves the Service.
    let leader = (0..PODS)
        .find(|&i| mode(&net.pod(i)).as_deref() == Some("leader"))
        .unwrap();
    pods[leader].kill();
    let left: Vec<usize> = (0..PODS).filter(|&i| i != leader).collect();
    svc.set_endpoints(
        &left
            .iter()
            .map(|&i| format!("{}:2181", net.pod(i)))
            .collect::<Vec<_>>(),
    );
    let elected = wait_for(Duration::from_secs(60), || {
        left.iter()
            .any(|&i| mode(&net.pod(i)).as_deref() == Some("leader"))
            .then_some(())
    });
    assert!(
        elected.is_some(),
        "no new leader: {}",
        pods[left[0]].log("zookeeper")
    );
    let wrote = wait_for(Duration::from_secs(60), || {
        create(&cli, &net, "/after").then_some(())
    });
    assert!(wrote.is_some(), "no write after losing the leader");
    let server = format!("{}:2181", net.service());
    let read = client(
        &cli,
        &["-server", &server, "get", "/before"],
        Duration::from_secs(20),
    );
    assert!(read.lines().any(|l| l.trim() == "v"), "{read}");
}
