//! The supervisor's loop: each command from its channel to its handler,
//! and each request to what answers it. The loop awaits nothing but the
//! channel; every handler returns at once (slow work is a job that comes
//! back as a command).

use super::*;

impl Supervisor {
    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        while let Some(command) = rx.recv().await {
            self.on_command(command);
            if self.shutdown.is_some() && self.starting.is_empty() && !self.entries.iter().any(|e| e.live.is_some()) {
                if let Some(done) = self.shutdown.take() {
                    // Done once every queued write (the sessions' last
                    // statuses) is in the store.
                    let store = self.store.clone();
                    tokio::spawn(async move {
                        let _ = store.run(|_| Ok(())).await;
                        let _ = done.send(());
                    });
                }
                return;
            }
        }
    }

    /// One command to its handler: a plain function each.
    fn on_command(&mut self, command: Command) {
        match command {
            Command::Request {
                client,
                peer,
                request,
                reply,
            } => self.handle(client, peer, *request, reply),
            Command::Session(event) => self.on_session_event(event),
            Command::Hook { ticket, request, reply } => self.on_hook(ticket, request, reply),
            Command::HookGone(ticket) => self.on_hook_gone(ticket),
            Command::ApprovalExpired(id) => self.on_approval_expired(id),
            Command::Branch(id, state) => self.on_branch(id, state),
            Command::Usage(count, bytes) => self.on_usage(count, bytes),
            Command::PoolSpawned(result) => self.on_pool_spawned(*result),
            Command::Transcript(id, bytes) => self.on_transcript(id, bytes),
            Command::LastUsage(id, tally) => self.on_last_usage(id, *tally),
            Command::Reviewed { id, result, by, reply } => self.on_reviewed(id, result, by, reply),
            Command::Merged(done) => self.on_merged(*done),
            Command::Restart(id) => self.on_restart(id),
            Command::RulesChanged(changed) => self.on_rules_changed(*changed),
            Command::Retired(retired) => self.on_retired(*retired),
            Command::ExitAssessed(id, exit, assessed) => self.on_exit(id, exit, assessed),
            Command::DeleteChecked {
                id,
                force,
                checked,
                reply,
            } => self.on_delete_checked(id, force, checked, reply),
            Command::Removed { id, removed, waiters } => self.on_removed(id, removed, waiters),
            Command::Looked(look) => self.on_looked(*look),
            Command::Memory(id, bytes) => self.on_memory(id, bytes),
            Command::Recycled(id, spawned) => self.on_recycled(id, spawned.map(|s| *s)),
            Command::Rebased(done) => self.on_rebased(*done),
            Command::TranscriptFound(id, path) => self.on_transcript_found(id, path),
            #[cfg(test)]
            Command::PanicSession(id) => {
                if let Some(live) = self
                    .entries
                    .iter()
                    .find(|e| e.record.id == id)
                    .and_then(|e| e.live.as_ref())
                {
                    let _ = live.commands.send(SessionCmd::Panic);
                }
            }
            Command::Tick => self.on_tick(),
            Command::ClientGone(client) => self.on_client_gone(client),
            Command::Notice(message) => self.notice(&message),
            Command::Started(done) => self.on_started(done),
            Command::Typed(id) => {
                self.clear_waiting(id.as_str());
                self.touch(id.as_str());
            }
            Command::Occupancy(reply) => {
                let _ = reply.send(self.occupancy());
            }
            Command::Shutdown(done) => {
                self.begin_shutdown(done);
            }
        }
    }

    /// Once a second: the pool, transcripts, branches, memory, and the
    /// `ahead` counts of busy sessions.
    fn on_tick(&mut self) {
        self.pool_tick();
        self.poll_transcripts();
        self.watch_branches();
        self.poll_memory();
        let live: Vec<SessionId> = self
            .entries
            .iter()
            .filter(|e| e.live.is_some() && e.record.worktree.is_some())
            .map(|e| e.record.id.clone())
            .collect();
        for id in live {
            self.maybe_refresh_ahead(&id);
        }
    }

    /// Every session's record, newest first.
    pub(super) fn records_value(&self) -> Value {
        Value::Array(
            self.entries
                .iter()
                .rev()
                .map(|e| protocol::to_value(&e.record))
                .collect(),
        )
    }

    fn handle(&mut self, client: ClientId, peer: Peer, request: Request, reply: Option<Reply>) {
        let result = if self.shutdown.is_some() {
            Err(anyhow!("lulu host is shutting down"))
        } else if let Err(err) = self.check_caller(&request, &peer.caller) {
            Err(err)
        } else {
            match request {
                // Sent as a notification (an editor that must not wait on
                // a remote host): answered with an event.
                Request::Hello(hello) if reply.is_none() => return self.hello_notified(client, peer, *hello),
                Request::Hello(hello) => self.hello(client, peer, *hello),
                // Answers by itself once its job is done.
                Request::Start(opts) => {
                    let options = self
                        .editors
                        .options(client)
                        .cloned()
                        .unwrap_or_else(|| self.session_options());
                    return self.start(*opts, options, reply);
                }
                Request::List => Ok(self.records_value()),
                Request::Get(session) => self.find(&session).map(|e| protocol::to_value(&e.record)),
                Request::Send { session, text } => self.send_text(&session, &text),
                Request::Write { session, bytes } => self.write(&session, bytes),
                Request::Resize { session, cols, rows } => self
                    .live(&session)
                    .and_then(|live| live.control.resize(cols, rows).context("resize failed"))
                    .map(|()| Value::Nil),
                Request::Stop { session, force } => self.stop(&session, force),
                // Answers by itself: possibly later, once the process is gone.
                Request::Delete { session, force } => {
                    return self.delete(&session, force, reply);
                }
                Request::Attach {
                    session,
                    chan,
                    size,
                    opts,
                } => self.attach(client, peer, &session, chan, size, opts),
                Request::Detach { session, chan } => self
                    .live(&session)
                    .map(|live| {
                        let _ = live.commands.send(SessionCmd::Detach { client, chan });
                    })
                    .map(|()| Value::Nil),
                Request::Diff(session) => return self.diff(&session, reply),
                Request::Detail(session) => match self.detail(&session) {
                    Ok(job) => return answer_later(reply, job),
                    Err(err) => Err(err),
                },
                // Served by the connection itself (rpc/handler.rs).
                Request::Watch { .. } => Ok(Value::Nil),
                // A live session's is answered on the caller's task; an
                // ended one's is rebuilt from its log.
                Request::Screen { session, rows } => match self.find(&session) {
                    Ok(entry) => {
                        let job = self.screen_text(entry, rows);
                        return answer_later(reply, async move { Ok(protocol::to_value(&job.await)) });
                    }
                    Err(err) => Err(err),
                },
                Request::Merge {
                    session,
                    strategy,
                    message,
                } => {
                    // The worktree policy of the editor that merges (the
                    // one that started the session may be long gone).
                    let retire = self.editors.options(client).unwrap_or(&self.last).cleanup_merged;
                    return self.merge(&session, strategy, message, retire, reply);
                }
                Request::Rebase { session, step } => return self.rebase(&session, step, reply),
                Request::ReviewFiles(session) => return self.review_files(&session, reply),
                Request::ReviewBase { session, path } => return self.review_base(&session, path, reply),
                Request::ReviewRead { session, path } => return self.review_read(&session, path, reply),
                Request::ReviewWrite { session, path, content } => {
                    return self.review_write(&session, path, content, reply);
                }
                Request::AddComment { session, comment } => return self.add_comment(&session, comment, reply),
                Request::Comments(session) => return self.comments(&session, reply),
                Request::ClearComments(session) => return self.clear_comments(&session, reply),
                Request::SaveTemplate { name, spec } => Ok(self.save_template(name, spec)),
                Request::Activity => Ok(self.activity()),
                Request::Templates => return self.templates(reply),
                Request::Trust(dir) => return self.trust(dir, reply),
                Request::Usage => Ok(self.usage()),
                Request::PoolStatus => Ok(self.pool.status()),
                Request::DaemonStatus => self.daemon_status(),
                Request::DaemonStop => self.daemon_stop(),
                Request::AgentInfo => Ok(self.agent_info(client)),
                Request::SaveSnapshot { name, specs } => Ok(self.save_snapshot(name, specs)),
                // Reads are jobs that answer by themselves: the loop goes on.
                Request::Snapshot(name) => return self.snapshot(name, reply),
                Request::Snapshots => return self.snapshots(reply),
                Request::Prune { dry_run } => return self.prune(dry_run, reply),
                Request::Approvals(opts) => match self.approvals(opts) {
                    Ok(job) => return answer_later(reply, job),
                    Err(err) => Err(err),
                },
                Request::Decide { approval, choice, opts } => {
                    let by = peer.caller.describe(client);
                    if let Some(content) = opts.content {
                        return self.decide_reviewed(approval, content, by, reply);
                    }
                    return self.decide(approval, choice, opts, by, reply);
                }
                Request::Review(approval) => return self.review(approval, reply),
                Request::Rules => Ok(self.rules_value()),
                Request::AddRule { spec, index } => {
                    return self.change_rules(rules::Change::Add { spec, index }, rules::Then::Answer, reply);
                }
                Request::RemoveRule(id) => {
                    return self.change_rules(rules::Change::Remove(id), rules::Then::Answer, reply);
                }
                Request::MoveRule { rule, index } => {
                    return self.change_rules(rules::Change::Move { id: rule, index }, rules::Then::Answer, reply);
                }
            }
        };
        respond(reply, result);
    }
}
