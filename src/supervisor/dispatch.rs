//! The supervisor's loop: each command from its channel to its handler,
//! and each request to what answers it. The loop awaits nothing but the
//! channel; every handler returns at once (slow work is a job that comes
//! back as a command).

use super::*;

impl Supervisor {
    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        while let Some(command) = rx.recv().await {
            self.on_command(command);
            if self.shutdown.is_some() && self.entries.starting() == 0 && !self.entries.iter().any(|e| e.live.is_some())
            {
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
                if let Some(live) = self.entries.get(&id).and_then(|e| e.live.as_ref()) {
                    let _ = live.commands.send(SessionCmd::Panic);
                }
            }
            Command::Tick => self.on_tick(),
            Command::ClientGone(client) => self.on_client_gone(client),
            Command::Notice(message) => self.notice(&message),
            Command::Started(done) => self.on_started(done),
            Command::PrOpened(id, result, reply) => self.on_pr_opened(id, *result, reply),
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
        self.save_chats();
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
    pub(super) fn records(&self) -> Vec<&SessionRecord> {
        self.entries.iter().rev().map(|e| &e.record).collect()
    }

    fn handle(&mut self, client: ClientId, peer: Peer, request: Request, reply: Option<Reply>) {
        let refused = if self.shutdown.is_some() {
            Err(anyhow!("lulu host is shutting down"))
        } else {
            self.check_caller(&request, &peer.caller)
        };
        if let Err(err) = refused {
            return respond(reply, Err(err));
        }
        match self.answer_now(client, &peer, request) {
            Handled::Now(result) => respond(reply, result),
            Handled::Later(request) => self.answer_later(client, peer, *request, reply),
        }
    }

    /// What the supervisor's own state answers at once; anything else is
    /// handed back for [`Supervisor::answer_later`].
    fn answer_now(&mut self, client: ClientId, peer: &Peer, request: Request) -> Handled {
        Handled::Now(match request {
            Request::List => Ok(Payload::of(&self.records())),
            Request::Get(session) => self.find(&session).map(|e| Payload::of(&e.record)),
            Request::Send { session, text } => self.send_text(&session, &text),
            Request::Write { session, bytes } => self.write(&session, bytes),
            Request::Resize { session, cols, rows } => self
                .live(&session)
                .and_then(|live| live.control.resize(cols, rows).context("resize failed"))
                .map(|()| Payload::NIL),
            Request::Stop { session, force } => self.stop(&session, force),
            Request::Attach {
                session,
                chan,
                size,
                opts,
            } => self.attach(client, peer.clone(), &session, chan, size, opts),
            Request::Detach { session, chan } => self
                .live(&session)
                .map(|live| {
                    let _ = live.commands.send(SessionCmd::Detach { client, chan });
                })
                .map(|()| Payload::NIL),
            // Served by the connection itself (rpc/handler.rs).
            Request::Watch { .. } => Ok(Payload::NIL),
            Request::SaveTemplate { name, spec } => Ok(self.save_template(name, spec)),
            Request::Activity => Ok(self.activity()),
            Request::Usage => Ok(self.usage()),
            Request::PoolStatus => Ok(self.pool.status()),
            Request::DaemonStatus => self.daemon_status(),
            Request::DaemonStop => self.daemon_stop(),
            Request::AgentInfo => Ok(self.agent_info(client)),
            Request::SaveSnapshot { name, specs } => Ok(self.save_snapshot(name, specs)),
            Request::Rules => Ok(self.rules_value()),
            other => return Handled::Later(Box::new(other)),
        })
    }

    /// Requests whose answer waits on a job (git, the store, a file, the
    /// user): each handler answers `reply` by itself once it is done.
    fn answer_later(&mut self, client: ClientId, peer: Peer, request: Request, reply: Option<Reply>) {
        match request {
            // Sent as a notification (an editor that must not wait on a
            // remote host): answered with an event.
            Request::Hello(hello) if reply.is_none() => self.hello_notified(client, peer, *hello),
            Request::Hello(hello) => {
                let result = self.hello(client, peer, *hello);
                respond(reply, result.map(|hello| Payload::of(&hello)));
            }
            Request::Start(opts) => {
                let options = self.editors.options(client).clone();
                self.start(*opts, options, reply);
            }
            // Possibly later, once the process is gone.
            Request::Delete { session, force } => self.delete(&session, force, reply),
            Request::Diff(session) => self.diff(&session, reply),
            Request::Detail(session) => match self.detail(&session) {
                Ok(job) => answer_later(reply, job),
                Err(err) => respond(reply, Err(err)),
            },
            // A live session's is answered on the caller's task; an ended
            // one's is rebuilt from its log.
            Request::Screen { session, rows } => match self.find(&session) {
                Ok(entry) => {
                    let job = self.screen_text(entry, rows);
                    answer_later(reply, async move { Ok(Payload::of(&job.await)) });
                }
                Err(err) => respond(reply, Err(err)),
            },
            Request::Merge {
                session,
                strategy,
                message,
            } => {
                // The worktree policy of the editor that merges (the one
                // that started the session may be long gone).
                let retire = self.editors.options(client).cleanup_merged;
                self.merge(&session, strategy, message, retire, reply);
            }
            Request::Rebase { session, step } => self.rebase(&session, step, reply),
            Request::Templates => self.templates(reply),
            Request::Trust(dir) => self.trust(dir, reply),
            Request::Snapshot(name) => self.snapshot(name, reply),
            Request::Snapshots => self.snapshots(reply),
            Request::Prune { dry_run } => self.prune(dry_run, reply),
            Request::Chat(session) => self.chat(&session, reply),
            Request::Push { session, opts } => {
                let remote = opts.remote.unwrap_or_else(|| "origin".to_string());
                self.push(&session, remote, opts.force, reply);
            }
            Request::PrDraft(session) => self.pr_draft(&session, reply),
            Request::Pr { session, opts } => {
                let remote = opts.remote.unwrap_or_else(|| "origin".to_string());
                self.open_pr(&session, remote, opts.title, opts.body, reply);
            }
            other => self.answer_review(client, &peer, other, reply),
        }
    }

    /// Edit review and comments, then approvals and rules: all answered
    /// by jobs.
    fn answer_review(&mut self, client: ClientId, peer: &Peer, request: Request, reply: Option<Reply>) {
        match request {
            Request::ReviewFiles(session) => self.review_files(&session, reply),
            Request::ReviewBase { session, path } => self.review_base(&session, path, reply),
            Request::ReviewRead { session, path } => self.review_read(&session, path, reply),
            Request::ReviewWrite { session, path, content } => self.review_write(&session, path, content, reply),
            Request::AddComment { session, comment } => self.add_comment(&session, comment, reply),
            Request::Comments(session) => self.comments(&session, reply),
            Request::ClearComments(session) => self.clear_comments(&session, reply),
            Request::RemoveComment { session, id } => self.remove_comment(&session, id, reply),
            other => self.answer_approval(client, peer, other, reply),
        }
    }

    /// Approvals and rules: answered by jobs.
    fn answer_approval(&mut self, client: ClientId, peer: &Peer, request: Request, reply: Option<Reply>) {
        match request {
            Request::Approvals(opts) => match self.approvals(opts) {
                Ok(job) => answer_later(reply, job),
                Err(err) => respond(reply, Err(err)),
            },
            Request::Decide { approval, choice, opts } => {
                let by = peer.caller.describe(client);
                match opts.content {
                    Some(content) => self.decide_reviewed(approval, content, by, reply),
                    None => self.decide(approval, choice, opts, by, reply),
                }
            }
            Request::Review(approval) => self.review(approval, reply),
            Request::AddRule { spec, index } => {
                self.change_rules(rules::Change::Add { spec, index }, rules::Then::Answer, reply);
            }
            Request::RemoveRule(id) => self.change_rules(rules::Change::Remove(id), rules::Then::Answer, reply),
            Request::MoveRule { rule, index } => {
                self.change_rules(rules::Change::Move { id: rule, index }, rules::Then::Answer, reply);
            }
            other => unrouted(other, reply),
        }
    }
}

/// Whether a request was answered from the supervisor's state.
enum Handled {
    Now(anyhow::Result<Payload>),
    Later(Box<Request>),
}

/// Requests taken by an earlier step of the routing; listed so that a new
/// request cannot go unhandled without the compiler saying so.
fn unrouted(request: Request, reply: Option<Reply>) {
    match request {
        Request::List
        | Request::Get(_)
        | Request::Send { .. }
        | Request::Write { .. }
        | Request::Resize { .. }
        | Request::Stop { .. }
        | Request::Attach { .. }
        | Request::Detach { .. }
        | Request::Watch { .. }
        | Request::SaveTemplate { .. }
        | Request::Activity
        | Request::Usage
        | Request::PoolStatus
        | Request::DaemonStatus
        | Request::DaemonStop
        | Request::AgentInfo
        | Request::SaveSnapshot { .. }
        | Request::Rules
        | Request::Hello(_)
        | Request::Start(_)
        | Request::Delete { .. }
        | Request::Diff(_)
        | Request::Detail(_)
        | Request::Screen { .. }
        | Request::Merge { .. }
        | Request::Rebase { .. }
        | Request::Templates
        | Request::Trust(_)
        | Request::Snapshot(_)
        | Request::Snapshots
        | Request::Prune { .. }
        | Request::Chat(_)
        | Request::Push { .. }
        | Request::PrDraft(_)
        | Request::Pr { .. }
        | Request::ReviewFiles(_)
        | Request::ReviewBase { .. }
        | Request::ReviewRead { .. }
        | Request::ReviewWrite { .. }
        | Request::AddComment { .. }
        | Request::Comments(_)
        | Request::ClearComments(_)
        | Request::RemoveComment { .. }
        | Request::Approvals(_)
        | Request::Decide { .. }
        | Request::Review(_)
        | Request::AddRule { .. }
        | Request::RemoveRule(_)
        | Request::MoveRule { .. } => respond(reply, Err(anyhow!("lulu: a request was routed twice"))),
    }
}
