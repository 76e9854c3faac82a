//! What the host tells an editor unasked: one [`Event`] per kind, each
//! with its name as `lua/lulu/events.lua` knows it (a test checks).

/// Every event the host sends an editor (`nvim_exec_lua` of
/// `lulu.events.dispatch(name, payload)`); `lua/lulu/events.lua` has a
/// handler for each (a test checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A session's record changed.
    Session,
    /// A session ended (its record, after the last output).
    Exit,
    /// A session was deleted (its id).
    Deleted,
    /// A watched session's screen (previews).
    Screen,
    /// A question for the user.
    Approval,
    /// A question was answered, withdrawn or expired.
    ApprovalResolved,
    /// The rules, as they are now.
    Rules,
    /// Worktree count and size.
    Usage,
    /// A warning for the user.
    Notice,
    /// Something happened on a session's branch.
    Activity,
    /// The answer to a hello sent as a notification.
    Hello,
    /// Entries of an ACP session's conversation: `{ session, from,
    /// entries }` (the entries from `from` on replace the editor's).
    Chat,
    /// The answer to a request sent as a notification (`lulu.call`):
    /// `{ ticket, result }` or `{ ticket, error }`.
    Reply,
}

impl Event {
    pub const ALL: [Event; 13] = [
        Event::Session,
        Event::Exit,
        Event::Deleted,
        Event::Screen,
        Event::Approval,
        Event::ApprovalResolved,
        Event::Rules,
        Event::Usage,
        Event::Notice,
        Event::Activity,
        Event::Hello,
        Event::Chat,
        Event::Reply,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Event::Session => "session",
            Event::Exit => "exit",
            Event::Deleted => "deleted",
            Event::Screen => "screen",
            Event::Approval => "approval",
            Event::ApprovalResolved => "approval_resolved",
            Event::Rules => "rules",
            Event::Usage => "usage",
            Event::Notice => "notice",
            Event::Activity => "activity",
            Event::Hello => "hello",
            Event::Chat => "chat",
            Event::Reply => "reply",
        }
    }
}
