//! Starting a run does not keep its revision's row (the source and the
//! compiled graph) while the first turn waits on the model: a thousand
//! conversations starting at once must not hold a thousand copies of the
//! workflow. The heap is counted by a global allocator while starts wait at
//! a local mock model that answers only when told to.

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use flow_runtime::Runtime;
use flow_runtime::store::SqliteStore;
use flow_server::app::App;
use flow_server::catalog::SqliteCatalog;
use flow_server::clock::ServerClock;
use serde_json::{Value, json};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The bytes the Rust heap holds now.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: every call is passed to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// A model that counts the calls it got and answers each once a permit is given.
struct Gate {
    arrived: AtomicUsize,
    open: Semaphore,
}

async fn chat(State(gate): State<Arc<Gate>>) -> axum::Json<Value> {
    gate.arrived.fetch_add(1, Ordering::Relaxed);
    if let Ok(permit) = gate.open.acquire().await {
        permit.forget();
    }
    axum::Json(json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello! What do you need?"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 6}
    }))
}

/// A workflow whose source is about 512 KB (a long comment), as a big revision is.
fn big_source() -> String {
    let comment: String = (0..4096)
        .map(|i| format!("# note {i:05}: {}\n", "x".repeat(110)))
        .collect();
    format!(
        "{comment}workflow greet \"Greeting\" {{\n  start hello\n  model chat\n}}\n\n\
         model chat = \"openai:gpt-4o-mini\"\n\n\
         agent hello {{\n  \"Greet the visitor and ask what they need.\"\n  when \"the visitor says goodbye\" -> bye\n}}\n\n\
         end bye {{\n  say \"Goodbye!\"\n  outcome done\n}}\n"
    )
}

fn post(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_waiting_on_the_model_do_not_hold_the_revision() {
    let gate = Arc::new(Gate {
        arrived: AtomicUsize::new(0),
        open: Semaphore::new(0),
    });
    let mock = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(chat))
        .with_state(Arc::clone(&gate));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, mock).await });
    // SAFETY of the environment: this binary's only test sets it before any run reads it.
    unsafe {
        std::env::set_var("OPENAI_BASE_URL", format!("http://{address}/v1"));
        std::env::set_var("OPENAI_API_KEY", "test");
    }

    let dir = std::env::temp_dir().join(format!("flow-start-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("runs.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    let catalog = SqliteCatalog::open(&path, true).unwrap();
    let mut runtime = Runtime::new(Arc::new(store));
    runtime.set_clock(ServerClock::new(None, None).unwrap());
    let app = Arc::new(App::new(runtime, Arc::new(catalog), true, 100));
    let router = flow_server::routes::router(app);

    let source = big_source();
    assert!(source.len() > 500_000);
    let created = router
        .clone()
        .oneshot(post("/v1/workflows", &json!({"source": source})))
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let start = || post("/v1/workflows/greet/runs", &json!({"inputs": {}}));

    // One start to the end first: the program is cached, the model connected.
    gate.open.add_permits(1);
    assert_eq!(router.clone().oneshot(start()).await.unwrap().status(), 201);
    tokio::time::sleep(Duration::from_millis(100)).await;

    const STARTS: usize = 16;
    let before = LIVE.load(Ordering::Relaxed);
    let waiting: Vec<_> = (0..STARTS)
        .map(|_| tokio::spawn(router.clone().oneshot(start())))
        .collect();
    for _ in 0..1000 {
        if gate.arrived.load(Ordering::Relaxed) > STARTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        gate.arrived.load(Ordering::Relaxed),
        1 + STARTS,
        "every start reached the model"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let per_start = (LIVE.load(Ordering::Relaxed) - before) / STARTS as isize;

    gate.open.add_permits(STARTS);
    for task in waiting {
        assert_eq!(task.await.unwrap().unwrap().status(), 201);
    }
    assert!(
        per_start < 200_000,
        "each start waiting on the model holds {per_start} bytes (the source is {} bytes)",
        source.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
