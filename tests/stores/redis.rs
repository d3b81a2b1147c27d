//! "redis with 3 replicas": replication watched by Sentinel, run with the
//! rendered start scripts. Writes go through the advertised endpoint (the
//! `redis` Service, which carries only Sentinel's port): ask Sentinel for
//! the primary, write there. After the primary's pod is killed, a write
//! through the same endpoint works again, and the pod, restarted with the
//! same script, comes back as a replica of the new primary.

use std::path::PathBuf;
use std::time::Duration;

use super::{client, config_entry, documents, find_program, have, plan, wait_for, Net, Pod, Service};

const PODS: usize = 3;

/// The rendered script of one pod with names replaced by addresses:
/// `$(hostname).redis-headless` and `redis-N.redis-headless` by the pods'
/// addresses, `$(hostname)` by the pod's name, `-h redis` (the Service) by
/// the Service's address, `/sentinel/` (an emptyDir) by the pod's
/// directory, and each server bound to the pod's address.
fn adapt(script: &str, pod: &Pod, net: &Net) -> String {
    let mut s = script.replace("$(hostname).redis-headless", &pod.ip);
    for k in 0..PODS {
        s = s.replace(&format!("redis-{k}.redis-headless"), &net.pod(k));
    }
    s.replace("$(hostname)", &pod.name)
        .replace("-h redis ", &format!("-h {} ", net.service()))
        .replace("/sentinel/", &format!("{}/", pod.dir.path().display()))
        .replace(
            "exec redis-server ",
            &format!("exec redis-server --bind {} ", pod.ip),
        )
        .replace("sentinel.conf\n", &format!("sentinel.conf --bind {}\n", pod.ip))
}

struct Cli(PathBuf);

impl Cli {
    fn run(&self, ip: &str, port: u16, args: &[&str]) -> String {
        let port = port.to_string();
        let mut all = vec!["-h", ip, "-p", &port];
        all.extend(args);
        client(&self.0, &all, Duration::from_secs(3)).trim().to_string()
    }

    /// The primary's address as Sentinel behind the Service names it.
    fn primary(&self, net: &Net) -> Option<String> {
        let out = self.run(
            &net.service(),
            26379,
            &["sentinel", "get-master-addr-by-name", "mymaster"],
        );
        let ip = out.lines().next()?.trim().to_string();
        ip.starts_with("127.").then_some(ip)
    }

    /// A write through the advertised endpoint: Sentinel, then the primary.
    fn write(&self, net: &Net, key: &str) -> Option<String> {
        let primary = self.primary(net)?;
        (self.run(&primary, 6379, &["set", key, "v"]) == "OK").then_some(primary)
    }
}

fn start(pod: &mut Pod, net: &Net, redis: &str, sentinel: &str, cli: &Cli) {
    pod.run("redis", &adapt(redis, pod, net), &[]);
    let ip = pod.ip.clone();
    let up = wait_for(Duration::from_secs(15), || {
        (cli.run(&ip, 6379, &["ping"]) == "PONG").then_some(())
    });
    assert!(up.is_some(), "{} did not start: {}", pod.name, pod.log("redis"));
    pod.run("sentinel", &adapt(sentinel, pod, net), &[]);
    let up = wait_for(Duration::from_secs(15), || {
        (cli.run(&ip, 26379, &["ping"]) == "PONG").then_some(())
    });
    assert!(
        up.is_some(),
        "{} sentinel did not start: {}",
        pod.name,
        pod.log("sentinel")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_with_3_replicas_fails_over_behind_the_same_endpoint() {
    if !have("redis failover", &["redis-server", "redis-sentinel", "redis-cli"]) {
        return;
    }
    let plan = plan("redis with 3 replicas in staging").await;
    assert!(
        !plan
            .findings
            .iter()
            .any(|f| f.severity == gitintent::finding::Severity::Error),
        "{:?}",
        plan.findings
    );
    assert!(
        plan.spec.assumptions.iter().any(|a| a.contains("redis:26379")),
        "{:?}",
        plan.spec.assumptions
    );
    // The Service clients use carries Sentinel only: no write can reach a replica through it.
    let service = documents(&plan, "service.yaml").remove(0);
    let ports: Vec<u64> = service["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [26379], "{service}");
    let (redis, sentinel) = (
        config_entry(&plan, "start-redis.sh"),
        config_entry(&plan, "start-sentinel.sh"),
    );

    let cli = Cli(find_program("redis-cli").unwrap());
    let net = Net::new(1);
    let svc = Service::start(&net.service(), 26379);
    let mut pods: Vec<Pod> = (0..PODS)
        .map(|i| Pod::new(format!("redis-{i}"), net.pod(i)))
        .collect();
    for i in 0..PODS {
        start(&mut pods[i], &net, &redis, &sentinel, &cli);
        let ready: Vec<String> = pods[..=i].iter().map(|p| format!("{}:26379", p.ip)).collect();
        svc.set_endpoints(&ready);
    }

    // The cluster formed: one primary with two replicas, three Sentinels that know each other.
    let formed = wait_for(Duration::from_secs(30), || {
        let synced = (1..PODS).all(|i| {
            let info = cli.run(&net.pod(i), 6379, &["info", "replication"]);
            info.contains(&format!("master_host:{}", net.pod(0))) && info.contains("master_link_status:up")
        });
        let sentinels = cli.run(&net.pod(2), 26379, &["sentinel", "sentinels", "mymaster"]);
        (synced && sentinels.matches("name").count() == 2).then_some(())
    });
    assert!(
        formed.is_some(),
        "no cluster: {}",
        cli.run(&net.pod(0), 6379, &["info", "replication"])
    );
    assert_eq!(cli.write(&net, "before").as_deref(), Some(net.pod(0).as_str()));
    let copied = wait_for(Duration::from_secs(10), || {
        (1..PODS)
            .all(|i| cli.run(&net.pod(i), 6379, &["get", "before"]) == "v")
            .then_some(())
    });
    assert!(copied.is_some(), "the write did not reach the replicas");
    let replica = cli.run(&net.pod(1), 6379, &["set", "direct", "v"]);
    assert!(replica.contains("READONLY"), "a replica took a write: {replica}");

    // The primary's pod dies; its endpoint leaves the Service.
    pods[0].kill();
    svc.set_endpoints(&[format!("{}:26379", net.pod(1)), format!("{}:26379", net.pod(2))]);
    let primary = wait_for(Duration::from_secs(60), || cli.write(&net, "after"));
    let primary = primary.unwrap_or_else(|| panic!("no write after failover: {}", pods[1].log("sentinel")));
    assert_ne!(primary, net.pod(0));
    assert_eq!(cli.run(&primary, 6379, &["get", "before"]), "v");

    // The old primary's pod restarts with the same script and follows the new primary.
    start(&mut pods[0], &net, &redis, &sentinel, &cli);
    let follows = wait_for(Duration::from_secs(30), || {
        let info = cli.run(&net.pod(0), 6379, &["info", "replication"]);
        (info.contains("role:slave") && info.contains(&format!("master_host:{primary}"))).then_some(())
    });
    assert!(follows.is_some(), "{}", pods[0].log("redis"));
}
