//! The Slack slash command end to end: a real server on 127.0.0.1, signed
//! requests, a backend that really plans and commits, and a loopback
//! `response_url` whose posts are asserted exactly.

use std::time::{Duration, Instant};

use gitintent::slack::{Clock, SLACK_HOOKS};
use serde_json::{json, Value};

use crate::util::slack::{now, plan_id, redact, Bench, FORGE, SECRET};

fn ephemeral(text: &str) -> Value {
    json!({ "response_type": "ephemeral", "text": text })
}

fn notice(text: &str) -> Value {
    json!({ "response_type": "ephemeral", "replace_original": false, "text": text })
}

fn unauthorized(message: &str) -> Value {
    json!({ "error": { "code": "unauthorized", "message": message, "details": null } })
}

#[tokio::test]
async fn a_plan_is_acknowledged_at_once_then_posted_as_block_kit() {
    let bench = Bench::start().await;
    bench.backend.hold();
    let started = Instant::now();
    let (status, ack) = tokio::time::timeout(
        Duration::from_secs(3),
        bench.command("UPLAT", "C0001", "deploy redis with 3 replicas env:staging"),
    )
    .await
    .expect("the acknowledgement arrives within Slack's 3 seconds");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(status, 200);
    assert_eq!(
        ack,
        ephemeral(
            "Planning… `platform` (staging): deploy redis with 3 replicas\nThe plan will appear here in a moment."
        )
    );
    // The plan is still being held: nothing may have been posted yet.
    bench.no_post(200).await;
    bench.backend.release();

    let post = bench.next_post().await;
    assert_eq!(post.path, "/commands/T0001/1/abc");
    let id = plan_id(&post.body);
    insta::assert_json_snapshot!("plan_message", redact(&post.body, &[(&id, "[plan-id]")]));

    let asked = bench.backend.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    let (requester, intent, repo, env) = &asked[0];
    assert_eq!(
        (
            requester.user_id.as_str(),
            requester.user_name.as_str(),
            requester.channel_id.as_str()
        ),
        ("UPLAT", "uplat", "C0001")
    );
    assert_eq!(
        (intent.as_str(), repo.as_str(), env.as_deref()),
        ("deploy redis with 3 replicas", "platform", Some("staging"))
    );
}

#[tokio::test]
async fn propose_button_commits_the_branch_and_replaces_the_plan() {
    let bench = Bench::start().await;
    let (_, id) = bench.plan("deploy redis with 3 replicas").await;
    let (status, body) = bench.click("UPLAT", "C0001", "gitintent_propose", &id).await;
    assert_eq!((status, body), (200, Value::String(String::new())));

    let post = bench.next_post().await;
    assert_eq!(post.path, "/actions/T0001/2/def");
    let branch = format!("gitintent/redis-{id}");
    let git = bench.backend.git();
    let tip = git
        .find_branch(&branch, git2::BranchType::Local)
        .expect("the proposed branch exists in the repository")
        .get()
        .peel_to_commit()
        .unwrap();
    let tree = tip.tree().unwrap();
    assert!(tree
        .get_path(std::path::Path::new(
            "clusters/staging/apps/redis/statefulset.yaml"
        ))
        .is_ok());
    let commit = tip.id().to_string();
    assert_eq!(
        post.body["text"],
        format!("Proposed plan {id} on branch {branch}")
    );
    assert!(post
        .body
        .to_string()
        .contains(&format!("<{FORGE}/pull/new/{branch}|Pull request>")));
    insta::assert_json_snapshot!(
        "proposed_message",
        redact(&post.body, &[(&commit[..12], "[commit]"), (&id, "[plan-id]")])
    );

    // A second click finds the plan proposed: a notice, and no second proposal.
    let (status, _) = bench.click("UPLAT", "C0001", "gitintent_propose", &id).await;
    assert_eq!(status, 200);
    assert_eq!(
        bench.next_post().await.body,
        notice(&format!(
            "Plan `{id}` has already been proposed; see `/gitintent status {id}`."
        ))
    );
    assert_eq!(bench.backend.calls().1, 1);
}

#[tokio::test]
async fn a_plan_with_error_findings_offers_only_discard_and_cannot_be_proposed() {
    let bench = Bench::start().await;
    // The repository allows dev, staging and production; sandbox is an error finding.
    let (message, id) = bench.plan("deploy redis env:sandbox").await;
    insta::assert_json_snapshot!("plan_with_errors", redact(&message, &[(&id, "[plan-id]")]));
    let actions = &message["blocks"].as_array().unwrap().last().unwrap()["elements"];
    assert_eq!(actions.as_array().unwrap().len(), 1);
    assert_eq!(actions[0]["action_id"], "gitintent_discard");

    // A forged Propose click for it is still refused before the backend proposes.
    let (status, _) = bench.click("UPLAT", "C0001", "gitintent_propose", &id).await;
    assert_eq!(status, 200);
    assert_eq!(
        bench.next_post().await.body,
        notice(&format!("Plan `{id}` has error findings and cannot be proposed."))
    );
    assert_eq!(bench.backend.calls().1, 0);
}

#[tokio::test]
async fn discard_replaces_the_plan_and_proposes_nothing() {
    let bench = Bench::start().await;
    let (_, id) = bench.plan("deploy redis").await;
    let (status, _) = bench.click("UPLAT", "C0001", "gitintent_discard", &id).await;
    assert_eq!(status, 200);
    assert_eq!(
        bench.next_post().await.body,
        json!({
            "response_type": "ephemeral",
            "replace_original": true,
            "text": format!("Discarded plan `{id}`. Nothing was proposed."),
        })
    );
    assert_eq!(bench.backend.calls(), (1, 0, 0));
}

#[tokio::test]
async fn help_and_empty_text_explain_usage() {
    let bench = Bench::start().await;
    let (status, help) = bench.command("UNOBODY", "C0001", "help").await;
    assert_eq!(status, 200);
    insta::assert_json_snapshot!("help", help);
    let (_, empty) = bench.command("UNOBODY", "C0001", "   ").await;
    assert_eq!(empty, help);
    assert_eq!(bench.backend.calls(), (0, 0, 0));
    bench.no_post(100).await;
}

#[tokio::test]
async fn status_shows_a_stored_plan_to_those_who_may_see_it() {
    let bench = Bench::start().await;
    let (planned, id) = bench.plan("deploy redis with 3 replicas").await;
    let (status, shown) = bench.command("UPLAT", "C0001", &format!("status {id}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown, planned, "status shows the plan exactly as first posted");

    let (_, missing) = bench.command("UPLAT", "C0001", "status 0123abcd").await;
    assert_eq!(missing, ephemeral("There is no plan `0123abcd`."));
    let (_, usage) = bench.command("UPLAT", "C0001", "status").await;
    assert_eq!(
        usage,
        ephemeral(
            "`status` needs one plan id, e.g. `/gitintent status 3f9c2a1b7e40`. Try `/gitintent help`."
        )
    );
    // CTEAM grants production only: a staging plan is not shown there to strangers.
    let (_, refused) = bench.command("UOTHER", "CTEAM", &format!("status {id}")).await;
    assert_eq!(
        refused,
        ephemeral(
            "Sorry, you are not allowed to see plans for `platform` / `staging` from here. Ask the platform team to grant access in the gitintent service config."
        )
    );
}

#[tokio::test]
async fn a_user_without_rights_is_refused_and_nothing_runs() {
    let bench = Bench::start().await;
    let cases = [
        ("UNOBODY", "C0001", "deploy redis", "`platform`"),
        (
            "UPLAT",
            "C0001",
            "deploy redis env:production",
            "`platform` / `production`",
        ),
        ("UPLAT", "C0001", "deploy redis repo:payments", "`payments`"),
        (
            "UNOBODY",
            "CTEAM",
            "deploy redis env:staging",
            "`platform` / `staging`",
        ),
    ];
    for (user, channel, text, target) in cases {
        let (status, reply) = bench.command(user, channel, text).await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(
            reply,
            ephemeral(&format!(
                "Sorry, you are not allowed to plan for {target} from here. Nothing was run. Ask the platform team to grant access in the gitintent service config."
            )),
            "{user} {channel} {text}"
        );
    }
    assert_eq!(bench.backend.calls(), (0, 0, 0), "the backend was never called");
    bench.no_post(300).await;

    // The channel's grant lets anyone plan for production there.
    let (status, _) = bench
        .command("UNOBODY", "CTEAM", "deploy redis env:production")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        bench.next_post().await.body["blocks"][0]["text"]["text"],
        "Plan for platform / production"
    );
}

#[tokio::test]
async fn proposing_needs_the_propose_right_on_the_plans_environment() {
    let bench = Bench::start().await;
    // UVIEW may plan anywhere in platform but not propose.
    let (status, _) = bench.command("UVIEW", "C0001", "deploy redis env:dev").await;
    assert_eq!(status, 200);
    let id = plan_id(&bench.next_post().await.body);
    bench.click("UVIEW", "C0001", "gitintent_propose", &id).await;
    assert_eq!(
        bench.next_post().await.body,
        notice("Sorry, you are not allowed to propose to `platform` / `dev` from here. Nothing was proposed. Ask the platform team to grant access in the gitintent service config.")
    );
    assert_eq!(bench.backend.calls().1, 0);
}

#[tokio::test]
async fn an_environment_chosen_by_the_plan_is_checked_too() {
    let bench = Bench::start().await;
    // UPLAT may not plan for production; the intent says so in words, not env:.
    let (status, _) = bench
        .command("UPLAT", "C0001", "deploy redis in production")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        bench.next_post().await.body,
        ephemeral("Sorry, you are not allowed to plan for `platform` / `production` from here. The plan is not shown and cannot be proposed. Ask the platform team to grant access in the gitintent service config.")
    );
}

#[tokio::test]
async fn backend_errors_are_polite_and_leak_nothing() {
    let bench = Bench::start().await;
    bench.command("UPLAT", "C0001", "deploy redis repo:broken").await;
    let post = bench.next_post().await;
    assert_eq!(
        post.body,
        ephemeral("Sorry, something went wrong inside gitintent. The error has been logged; please try again, and tell the platform team if it keeps happening.")
    );
    assert!(!post.body.to_string().contains("store.db"));

    // Bad input is the user's to fix, so it is shown.
    bench
        .command("UPLAT", "C0001", "deploy api using image nginx")
        .await;
    let text = bench.next_post().await.body["text"].as_str().unwrap().to_string();
    assert!(
        text.starts_with(
            "That request cannot be planned: the intent was not understood: the image nginx has no tag"
        ),
        "{text}"
    );
    let (_, twice) = bench
        .command("UPLAT", "C0001", "deploy redis env:dev env:qa")
        .await;
    assert_eq!(
        twice,
        ephemeral("`env:` is given twice; give one. Try `/gitintent help`.")
    );
}

#[tokio::test]
async fn signatures_are_checked_before_anything_else() {
    let bench = Bench::start().await;
    let body = bench.command_body("UPLAT", "C0001", "deploy redis");
    let ts = now();
    let good = gitintent::slack::verify::sign(SECRET, ts, body.as_bytes());
    let header = |ts: u64, sig: &str| {
        vec![
            ("x-slack-request-timestamp", ts.to_string()),
            ("x-slack-signature", sig.to_string()),
        ]
    };
    type Headers = Vec<(&'static str, String)>;
    let cases: Vec<(&str, Headers, String, Value)> = vec![
        (
            "tampered body",
            header(ts, &good),
            body.replace("deploy+redis", "deploy+kafka"),
            unauthorized("signature mismatch: the request was not signed with this app's signing secret, or its body was altered"),
        ),
        (
            "stale",
            header(ts - 301, &gitintent::slack::verify::sign(SECRET, ts - 301, body.as_bytes())),
            body.clone(),
            unauthorized("request timestamp is 301 seconds old; the limit is 300 (stale or replayed request)"),
        ),
        ("no headers", vec![], body.clone(), unauthorized("missing header x-slack-request-timestamp")),
        (
            "no signature",
            vec![("x-slack-request-timestamp", ts.to_string())],
            body.clone(),
            unauthorized("missing header x-slack-signature"),
        ),
        (
            "wrong secret",
            header(ts, &gitintent::slack::verify::sign("another-app", ts, body.as_bytes())),
            body.clone(),
            unauthorized("signature mismatch: the request was not signed with this app's signing secret, or its body was altered"),
        ),
        (
            "malformed signature",
            header(ts, "sha256=abc"),
            body.clone(),
            unauthorized("malformed header x-slack-signature: expected v0=<hex HMAC-SHA256>"),
        ),
    ];
    for (name, headers, body, expected) in cases {
        for path in ["slack/commands", "slack/interactions"] {
            let (status, reply) = bench.raw(path, &headers, &body).await;
            assert_eq!((status, &reply), (401, &expected), "{name} on {path}");
        }
    }
    assert_eq!(bench.backend.calls(), (0, 0, 0));
    bench.no_post(200).await;

    // The good signature is accepted, once: the same request again is a replay.
    let (status, _) = bench.raw("slack/commands", &header(ts, &good), &body).await;
    assert_eq!(status, 200);
    bench.next_post().await;
    let (status, reply) = bench.raw("slack/commands", &header(ts, &good), &body).await;
    assert_eq!(
        (status, reply),
        (
            401,
            unauthorized("replayed request: this signature was already accepted")
        )
    );
    // The same digest spelt in upper case is not a new signature (issue 13).
    let upper = format!("v0={}", good.trim_start_matches("v0=").to_ascii_uppercase());
    let (status, reply) = bench.raw("slack/commands", &header(ts, &upper), &body).await;
    assert_eq!(
        (status, reply),
        (
            401,
            unauthorized("malformed header x-slack-signature: the digest after v0= must be lower-case hex, as Slack sends it")
        )
    );
    assert_eq!(bench.backend.calls().0, 1);
}

#[tokio::test]
async fn slacks_certificate_check_is_answered_without_a_command() {
    let bench = Bench::start().await;
    let body = "ssl_check=1&token=legacy-verification-token";
    let (status, reply) = bench.signed("slack/commands", SECRET, now(), body).await;
    assert_eq!((status, reply), (200, json!({})));
    // Unsigned, it is refused like anything else.
    let (status, _) = bench.raw("slack/commands", &[], body).await;
    assert_eq!(status, 401);
    assert_eq!(bench.backend.calls(), (0, 0, 0));
}

#[tokio::test]
async fn slacks_documented_example_is_accepted_with_the_clock_pinned() {
    let example: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/slack/slack-signature.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let field = |k: &str| example[k].as_str().unwrap().to_string();
    let (secret, ts, body, sig) = (
        field("signing_secret"),
        field("timestamp"),
        field("body"),
        field("x_slack_signature"),
    );
    let pinned: u64 = ts.parse().unwrap();
    let headers = vec![
        ("x-slack-request-timestamp", ts.clone()),
        ("x-slack-signature", sig),
    ];
    for (at, tamper, expected) in [
        (pinned, false, 200),
        (pinned + 120, false, 200),
        (pinned, true, 401),
        (pinned + 301, false, 401),
    ] {
        let secret = secret.clone();
        let bench = Bench::start_with(move |c| {
            c.signing_secret = secret;
            c.clock = Clock::fixed(at);
            // The example's response_url is Slack's own.
            c.response_url_prefix = SLACK_HOOKS.into();
        })
        .await;
        let body = if tamper {
            body.replace("text=", "text=help")
        } else {
            body.clone()
        };
        let (status, reply) = bench.raw("slack/commands", &headers, &body).await;
        assert_eq!(status, expected, "at {at}, tampered {tamper}: {reply}");
        if expected == 200 {
            // Empty text: the usage message, answered inline.
            assert_eq!(reply["text"], "gitintent: usage");
        }
    }
}

#[tokio::test]
async fn response_urls_off_the_allowed_prefix_are_never_posted_to() {
    let bench = Bench::start_with(|c| c.response_url_prefix = SLACK_HOOKS.into()).await;
    let (status, reply) = bench.command("UPLAT", "C0001", "deploy redis").await;
    assert_eq!(status, 400);
    assert_eq!(
        reply["error"]["message"],
        "response_url is not under https://hooks.slack.com/; refusing to post there"
    );
    assert_eq!(bench.backend.calls(), (0, 0, 0));
    bench.no_post(200).await;
}

#[tokio::test]
async fn malformed_signed_requests_are_400_with_a_reason() {
    let bench = Bench::start().await;
    let cases = [
        (
            "slack/commands",
            "text=hi".to_string(),
            "the slash command form has no user_id",
        ),
        (
            "slack/interactions",
            "payload=%7B".to_string(),
            "payload is not a Slack interaction",
        ),
        (
            "slack/interactions",
            bench.click_body("UPLAT", "C1", "gitintent_explode", "abc"),
            "unknown action_id \"gitintent_explode\"",
        ),
        (
            "slack/interactions",
            bench.click_body("UPLAT", "C1", "gitintent_propose", "../../etc"),
            "`../../etc` is not a plan id",
        ),
    ];
    for (path, body, needle) in cases {
        let (status, reply) = bench.signed(path, SECRET, now(), &body).await;
        assert_eq!(status, 400, "{body}: {reply}");
        assert_eq!(reply["error"]["code"], "bad_request");
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{message}");
    }
    assert_eq!(bench.backend.calls(), (0, 0, 0));
}
