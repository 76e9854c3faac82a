//! The names on the wire: every method, in one table ([`METHODS`]), and
//! every event ([`Event`]); `lua/lulu/rpc.lua` and `lua/lulu/events.lua`
//! are checked against them by a test.

pub const HELLO: &str = "lulu.hello";
/// Any other request, sent as a notification by an editor that must not
/// wait: `[ticket, method, args]`, answered with a [`Event::Reply`].
pub const CALL: &str = "lulu.call";
pub const SESSION_START: &str = "lulu.session_start";
pub const SESSION_LIST: &str = "lulu.session_list";
pub const SESSION_GET: &str = "lulu.session_get";
pub const SESSION_SEND: &str = "lulu.session_send";
pub const SESSION_WRITE: &str = "lulu.session_write";
pub const SESSION_RESIZE: &str = "lulu.session_resize";
pub const SESSION_STOP: &str = "lulu.session_stop";
pub const SESSION_DELETE: &str = "lulu.session_delete";
pub const SESSION_ATTACH: &str = "lulu.session_attach";
pub const SESSION_DETACH: &str = "lulu.session_detach";
pub const SESSION_DIFF: &str = "lulu.session_diff";
pub const SESSION_DETAIL: &str = "lulu.session_detail";
pub const SESSION_CHAT: &str = "lulu.session_chat";
pub const SESSION_PUSH: &str = "lulu.session_push";
pub const SESSION_PR: &str = "lulu.session_pr";
pub const PR_DRAFT: &str = "lulu.pr_draft";
pub const SESSION_SCREEN: &str = "lulu.session_screen";
pub const SESSION_WATCH: &str = "lulu.session_watch";
pub const SESSION_MERGE: &str = "lulu.session_merge";
pub const SESSION_REBASE: &str = "lulu.session_rebase";
pub const REVIEW_FILES: &str = "lulu.review_files";
pub const REVIEW_BASE: &str = "lulu.review_base";
pub const REVIEW_READ: &str = "lulu.review_read";
pub const REVIEW_WRITE: &str = "lulu.review_write";
pub const COMMENT_ADD: &str = "lulu.comment_add";
pub const COMMENT_LIST: &str = "lulu.comment_list";
pub const COMMENT_CLEAR: &str = "lulu.comment_clear";
pub const COMMENT_REMOVE: &str = "lulu.comment_remove";
pub const TEMPLATE_SAVE: &str = "lulu.template_save";
pub const TEMPLATE_LIST: &str = "lulu.template_list";
pub const ACTIVITY_LIST: &str = "lulu.activity_list";

/// Every method, once: the table the Lua side (`lua/lulu/rpc.lua`) and the
/// events it handles (`lua/lulu/events.lua`, [`EVENTS`]) are checked against.
pub const METHODS: &[&str] = &[
    HELLO,
    CALL,
    SESSION_SCREEN,
    SESSION_WATCH,
    SESSION_START,
    SESSION_LIST,
    SESSION_GET,
    SESSION_SEND,
    SESSION_WRITE,
    SESSION_RESIZE,
    SESSION_STOP,
    SESSION_DELETE,
    SESSION_ATTACH,
    SESSION_DETACH,
    SESSION_DIFF,
    SESSION_DETAIL,
    SESSION_CHAT,
    SESSION_PUSH,
    SESSION_PR,
    PR_DRAFT,
    SESSION_MERGE,
    SESSION_REBASE,
    REVIEW_FILES,
    REVIEW_BASE,
    REVIEW_READ,
    REVIEW_WRITE,
    COMMENT_ADD,
    COMMENT_LIST,
    COMMENT_CLEAR,
    COMMENT_REMOVE,
    TEMPLATE_SAVE,
    TEMPLATE_LIST,
    ACTIVITY_LIST,
    REPO_TRUST,
    WORKTREE_USAGE,
    WORKTREE_PRUNE,
    POOL_STATUS,
    AGENT_INFO,
    SNAPSHOT_SAVE,
    SNAPSHOT_GET,
    SNAPSHOT_LIST,
    DAEMON_STATUS,
    DAEMON_STOP,
    APPROVAL_LIST,
    APPROVAL_DECIDE,
    APPROVAL_REVIEW,
    RULE_LIST,
    RULE_ADD,
    RULE_REMOVE,
    RULE_MOVE,
];

pub const REPO_TRUST: &str = "lulu.repo_trust";
pub const WORKTREE_USAGE: &str = "lulu.worktree_usage";
pub const WORKTREE_PRUNE: &str = "lulu.worktree_prune";
pub const POOL_STATUS: &str = "lulu.pool_status";
pub const AGENT_INFO: &str = "lulu.agent_info";
pub const SNAPSHOT_SAVE: &str = "lulu.snapshot_save";
pub const SNAPSHOT_GET: &str = "lulu.snapshot_get";
pub const SNAPSHOT_LIST: &str = "lulu.snapshot_list";
pub const APPROVAL_LIST: &str = "lulu.approval_list";
pub const APPROVAL_DECIDE: &str = "lulu.approval_decide";
pub const APPROVAL_REVIEW: &str = "lulu.approval_review";
pub const RULE_LIST: &str = "lulu.rule_list";
pub const RULE_ADD: &str = "lulu.rule_add";
pub const RULE_REMOVE: &str = "lulu.rule_remove";
pub const RULE_MOVE: &str = "lulu.rule_move";
pub const DAEMON_STATUS: &str = "lulu.daemon_status";
pub const DAEMON_STOP: &str = "lulu.daemon_stop";
