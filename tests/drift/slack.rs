//! Slack `/gitintent drift <env>` served by the real service: a signed
//! command is acknowledged at once, the report arrives as Block Kit on a
//! loopback `response_url`, and grants are checked before the cluster is
//! contacted.

use super::service::{dead_url, setup};
use super::*;
use crate::util::service::{Reply, Service};
use crate::util::slack_hooks::{next, receiver, slack_block, slash};

const SECRET: &str = "drift-slack-signing-secret";

/// A slash command signed with this app's secret, as Slack sends it.
async fn command(service: &Service, hooks: &str, user: &str, text: &str) -> Reply {
    slash(service, SECRET, hooks, user, text).await
}

/// The Slack app: UOPS may read production in `gitops` and `dark`, UDEV staging only.
fn ops_and_dev(hooks: &str) -> String {
    slack_block(
        SECRET,
        hooks,
        "[slack.users.UOPS]\nrepos = [\"gitops\", \"dark\"]\nenvs = [\"production\"]\n\
         [slack.users.UDEV]\nrepos = [\"gitops\"]\nenvs = [\"staging\"]\n",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_drift_posts_a_block_kit_summary_and_checks_grants() {
    let (api, mut lives) = cluster_in_sync().await;
    lives[0]["spec"]["replicas"] = 5.into();
    lives[0]["spec"]["template"]["spec"]["containers"][1]["image"] = "ghcr.io/acme/web:1.4.3-hotfix".into();
    api.put(lives[0].clone());
    api.forbid("configmaps");
    let (url, mut posts) = receiver().await;
    let s = setup(&api, &dead_url(), &ops_and_dev(&url)).await;

    let ack = command(&s.service, &url, "UOPS", "drift production").await;
    assert_eq!(ack.status, 200, "{}", ack.text);
    assert!(
        ack.text.contains("Reading drift of `gitops` / `production`"),
        "{}",
        ack.text
    );
    let message = next(&mut posts).await;
    assert_eq!(message["response_type"], "ephemeral");
    let blocks = message["blocks"].as_array().expect("Block Kit");
    assert!(blocks.len() <= 50);
    assert_eq!(blocks[0]["text"]["text"], "Drift in gitops / production");
    let text = message.to_string();
    assert!(
        text.contains("*1* in sync · *1* drifted · *0* missing · *0* extra · *1* unreadable"),
        "{text}"
    );
    assert!(text.contains("*Drift score:* 36"), "{text}");
    assert!(
        text.contains("*Deployment shop/web* (score 36) `clusters/production/apps/web/deployment.yaml`"),
        "{text}"
    );
    assert!(
        text.contains("`spec.template.spec.containers[name=web].image`: Git `ghcr.io/acme/web:1.4.2` → live `ghcr.io/acme/web:1.4.3-hotfix`"),
        "{text}"
    );
    assert!(text.contains("`spec.replicas`: Git `3` → live `5`"), "{text}");
    assert!(text.contains("*Unreadable (1)*"), "{text}");
    for block in blocks {
        let t = block["text"]["text"].as_str().unwrap_or_default();
        assert!(t.chars().count() <= 3000);
    }

    // Not granted production: refused at once, the cluster is not contacted again.
    let before = api.requests().len();
    let refused = command(&s.service, &url, "UDEV", "drift production").await;
    assert_eq!(refused.status, 200);
    assert!(
        refused.text.contains("not allowed to read drift for"),
        "{}",
        refused.text
    );
    // Unknown users are refused the same way.
    let stranger = command(&s.service, &url, "UNOBODY", "drift production repo:gitops").await;
    assert!(stranger.text.contains("not allowed"), "{}", stranger.text);
    // A cluster nobody answers for: a clear message, not an apology.
    let dark = command(&s.service, &url, "UOPS", "drift production repo:dark").await;
    assert_eq!(dark.status, 200);
    let message = next(&mut posts).await.to_string();
    assert!(
        message.contains("Drift of `dark` / `production` could not be read")
            && message.contains("cannot reach the Kubernetes API server"),
        "{message}"
    );
    assert_eq!(api.requests().len(), before, "refusals never reach the cluster");

    let usage = command(&s.service, &url, "UOPS", "drift").await;
    assert!(
        usage.text.contains("`drift` needs one environment"),
        "{}",
        usage.text
    );
    let help = command(&s.service, &url, "UOPS", "help").await;
    assert!(help.text.contains("/gitintent drift <env>"), "{}", help.text);
    assert!(tokio::time::timeout(Duration::from_millis(300), posts.recv())
        .await
        .is_err());
}
