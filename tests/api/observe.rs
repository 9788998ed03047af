//! What an operator sees: request ids, `/metrics` on its own listener, JSON logs.

use crate::helpers::*;

#[actix_rt::test]
async fn every_response_carries_a_request_id_and_a_proxy_s_own_is_kept() {
    let app = spawn_app().await;
    let a = app.get("/healthz").await.header("x-request-id").unwrap();
    let b = app.get("/nowhere").await.header("x-request-id").unwrap();
    assert_eq!(a.len(), 32, "{a}");
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b, "one id a request, error pages too");
    let given = app
        .get_with("/healthz", &[("x-request-id", "edge-7f3a.42_b")])
        .await;
    assert_eq!(
        given.header("x-request-id").as_deref(),
        Some("edge-7f3a.42_b")
    );
    // An id that could break a log line, or is too long, is replaced.
    for bad in ["two words", &"x".repeat(65), "<script>"] {
        let res = app.get_with("/healthz", &[("x-request-id", bad)]).await;
        let id = res.header("x-request-id").unwrap();
        assert_ne!(id, bad);
        assert_eq!(id.len(), 32);
    }
}

#[actix_rt::test]
async fn metrics_are_served_on_their_own_listener_and_not_on_the_site() {
    let app = spawn_app_with(test_now(), |config| {
        config.metrics_bind = Some("127.0.0.1:0".to_owned());
    })
    .await;
    assert_eq!(app.get("/healthz").await.status, 200);
    assert_eq!(app.get("/cities/krakow/calendar.ics").await.status, 200);
    assert_eq!(app.get("/events/999999").await.status, 404);
    // Not on the public site.
    assert_eq!(app.get("/metrics").await.status, 404);

    let metrics = app.metrics_address.clone().expect("a metrics listener");
    let mut res = app
        .client
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let body = String::from_utf8(res.body().await.unwrap().to_vec()).unwrap();
    for want in [
        r#"http_requests_total{route="/healthz",status="200"}"#,
        r#"http_requests_total{route="/events/{id}",status="404"}"#,
        r#"http_request_duration_seconds_bucket{route="/cities/{slug}/calendar.ics",le="0.5"}"#,
        "feed_build_seconds_count",
        r#"cache_misses_total{cache="feed"}"#,
        "db_pool_connections",
        "db_pool_wait_seconds_count",
    ] {
        assert!(body.contains(want), "{want} in:\n{body}");
    }
    // Paths are not labels: one series per route, whatever the id. (The number alone
    // could be part of a measured value.)
    assert!(!body.contains("/events/999999"));
}

#[test]
fn json_logs_give_one_object_a_line_with_the_route_status_latency_and_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = binary()
        .args(["serve", "--log-format", "json", "--bind"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--database")
        .arg(dir.path().join("log.db"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let ask = || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
        s.write_all(b"GET /cities/krakow HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-123\r\nConnection: close\r\n\r\n")?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok::<_, std::io::Error>(out)
    };
    let mut answer = None;
    for _ in 0..100 {
        if let Ok(a) = ask() {
            answer = Some(a);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let answer = answer.expect("the server answers");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-request-id: trace-123"),
        "{answer}"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    server.kill().unwrap();
    let output = server.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["request_id"] == "trace-123")
        .unwrap_or_else(|| panic!("no request line in {stderr}"));
    assert_eq!(request["route"], "/cities/{slug}");
    assert_eq!(request["path"], "/cities/krakow");
    assert_eq!(request["status"], 200);
    assert!(request["latency_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(request["level"], "INFO");
}
