//! The host's end of the hook bridge: a Unix socket (0600) in a private
//! directory (0700); one task per connection; the supervisor decides.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use super::questions::Questions;
use super::{HookReply, HookRequest};
use crate::private::{self, Links};

/// Largest hook request accepted (a Write of a big file carries its content).
pub const MAX_REQUEST: u64 = 16 * 1024 * 1024;
/// Hook connections served at once (12 sessions asking several questions
/// each, with room to spare); past it new ones are closed at once.
pub const MAX_HOOK_CONNECTIONS: usize = 256;
/// How long a hook may take to send its request after connecting.
pub const HOOK_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct HookServer {
    path: PathBuf,
    listener: UnixListener,
}

impl HookServer {
    /// Make the private directory (or check one that exists) and bind
    /// `host-<pid>.sock` in it.
    pub fn bind(dir: &Path) -> anyhow::Result<HookServer> {
        private::dir(dir, Links::Refuse)?;
        let path = dir.join(format!("host-{}.sock", std::process::id()));
        let listener = crate::ipc::listen_private(&path)?;
        Ok(HookServer { path, listener })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serve until the task is dropped or aborted.
    pub async fn serve(self, questions: Questions) {
        // SAFETY: getuid cannot fail.
        let uid = unsafe { libc::getuid() };
        let mut accept = crate::ipc::Acceptor::new("hook", MAX_HOOK_CONNECTIONS);
        loop {
            let Some((stream, slot)) = accept.next(&self.listener).await else {
                continue;
            };
            if !crate::ipc::from_this_user(&stream, uid, "hook") {
                continue;
            }
            let questions = questions.clone();
            tokio::spawn(async move {
                if let Err(err) = serve_one(stream, questions).await {
                    tracing::info!("hook connection: {err:#}");
                }
                drop(slot);
            });
        }
    }
}

impl Drop for HookServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn serve_one(stream: UnixStream, questions: Questions) -> anyhow::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read.take(MAX_REQUEST));
    let request: HookRequest = {
        let mut line = String::new();
        // A hook sends its request at once; one that connects and says
        // nothing would hold a descriptor forever.
        tokio::time::timeout(HOOK_REQUEST_TIMEOUT, reader.read_line(&mut line))
            .await
            .context("no request within the time allowed")?
            .context("reading the request")?;
        // The line (a Write's whole content, say) goes here, not kept for
        // as long as the question waits.
        serde_json::from_str(&line).context("malformed hook request")?
    };
    let (ticket, decided) = questions.ask(request);
    // If the hook goes away first (the agent answered in its own dialog, or
    // was killed), withdraw the question instead of leaving it pending.
    let mut probe = [0u8; 1];
    let mut rest = reader.into_inner().into_inner();
    let reply = tokio::select! {
        reply = decided => reply.unwrap_or_else(|_| HookReply::ask()),
        _ = rest.read(&mut probe) => {
            questions.gone(ticket);
            return Ok(());
        }
    };
    let mut out = serde_json::to_vec(&reply)?;
    out.push(b'\n');
    write.write_all(&out).await.context("writing the reply")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::io::AsyncBufReadExt;

    use super::*;
    use crate::approval::Action;
    use crate::hook::questions::{Answerer, Question};

    /// Answers every question by the session's name, and remembers what
    /// was withdrawn: the server with no supervisor behind it.
    #[derive(Default, Clone)]
    struct Scripted(Arc<Mutex<Vec<u64>>>);

    impl Answerer for Scripted {
        fn take(&self, question: Question) {
            match question {
                Question::Ask { request, reply, .. } if request.session == "allowed" => {
                    let _ = reply.send(HookReply::of(Action::Allow, None));
                }
                // Never answered: the hook hangs up first.
                Question::Ask { reply, .. } => std::mem::forget(reply),
                Question::Gone(ticket) => self.0.lock().unwrap().push(ticket),
            }
        }
    }

    fn request(session: &str) -> Vec<u8> {
        let mut line = serde_json::to_vec(&HookRequest {
            session: session.into(),
            token: "t".into(),
            agent: "claude".into(),
            payload: serde_json::json!({ "hook_event_name": "PreToolUse" }),
        })
        .unwrap();
        line.push(b'\n');
        line
    }

    #[tokio::test]
    async fn the_bridge_asks_whoever_answers_and_withdraws_a_hung_up_question() {
        let dir = tempfile::tempdir().unwrap();
        let server = HookServer::bind(&dir.path().join("lulu")).unwrap();
        let path = server.path().to_path_buf();
        let answerer = Scripted::default();
        let task = tokio::spawn(server.serve(Questions::new(answerer.clone())));

        let mut stream = UnixStream::connect(&path).await.unwrap();
        stream.write_all(&request("allowed")).await.unwrap();
        let mut answer = String::new();
        BufReader::new(&mut stream).read_line(&mut answer).await.unwrap();
        let reply: HookReply = serde_json::from_str(&answer).unwrap();
        assert_eq!(reply.decision, Action::Allow);

        let mut stream = UnixStream::connect(&path).await.unwrap();
        stream.write_all(&request("waits")).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        drop(stream);
        let withdrawn = async {
            while answerer.0.lock().unwrap().is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), withdrawn)
            .await
            .expect("the hung-up question is withdrawn");
        task.abort();
    }
}
