//! The link's filter, message by message and as a byte stream.

use super::*;

fn notify(method: &str, params: Vec<Value>) -> Value {
    Value::Array(vec![2.into(), method.into(), Value::Array(params)])
}

#[test]
fn only_what_the_protocol_sends_passes() {
    let mut seen = Seen::default();
    note(
        &Value::Array(vec![
            2.into(),
            crate::rpc::protocol::SESSION_ATTACH.into(),
            Value::Array(vec!["devbox:a".into(), 7.into()]),
        ]),
        &mut seen,
    );
    note(
        &Value::Array(vec![
            0.into(),
            11.into(),
            "lulu.session_list".into(),
            Value::Array(vec![]),
        ]),
        &mut seen,
    );
    let event = notify(
        "nvim_exec_lua",
        vec![
            DISPATCH.into(),
            Value::Array(vec!["session".into(), Value::Map(vec![]), "laptop".into()]),
        ],
    );
    let Verdict::Pass(passed) = judge("devbox", event, &mut seen) else {
        panic!("an event passes")
    };
    assert_eq!(passed[2][1][2], Value::from("devbox"), "the tag is the link's");
    let output = notify("nvim_chan_send", vec![7.into(), Value::Binary(b"hi".to_vec())]);
    assert!(matches!(judge("devbox", output, &mut seen), Verdict::Pass(_)));
    let reply = Value::Array(vec![1.into(), 11.into(), Value::Nil, Value::Array(vec![])]);
    assert!(matches!(judge("devbox", reply.clone(), &mut seen), Verdict::Pass(_)));
    assert!(
        matches!(judge("devbox", reply, &mut seen), Verdict::Refuse(_)),
        "answered once"
    );
    let ping = Value::Array(vec![
        0.into(),
        3.into(),
        "nvim_get_current_buf".into(),
        Value::Array(vec![]),
    ]);
    assert!(matches!(judge("devbox", ping, &mut seen), Verdict::Answer(_)));

    let hostile = [
        notify(
            "nvim_exec_lua",
            vec!["os.execute('touch /tmp/pwn')".into(), Value::Array(vec![])],
        ),
        notify(
            "nvim_exec_lua",
            vec![DISPATCH.into(), Value::Array(vec!["nosuch".into(), Value::Nil])],
        ),
        notify("nvim_command", vec!["!touch /tmp/pwn".into()]),
        notify("nvim_chan_send", vec![3.into(), Value::Binary(b"rm -rf ~\n".to_vec())]),
        notify("nvim_input", vec!["<Esc>:q!<CR>".into()]),
        Value::Array(vec![0.into(), 1.into(), "nvim_exec_lua".into(), Value::Array(vec![])]),
        Value::Array(vec![
            0.into(),
            2.into(),
            "nvim_call_function".into(),
            Value::Array(vec![]),
        ]),
        Value::Array(vec![1.into(), 99.into(), Value::Nil, Value::Nil]),
        Value::from("not an array"),
        Value::Array(vec![5.into()]),
    ];
    for message in hostile {
        assert!(
            matches!(judge("devbox", message.clone(), &mut seen), Verdict::Refuse(_)),
            "{message}"
        );
    }
}

#[test]
fn names_reach_ssh_as_plain_words() {
    for bad in [
        "$(touch /tmp/x)",
        "x;touch /tmp/x",
        "-oProxyCommand=x",
        "a b",
        "`id`",
        "",
        "x'y",
    ] {
        assert!(check_word("host", bad).is_err(), "{bad:?}");
    }
    let argv = ssh_argv("me@devbox", "~/bin/lulu", &["-F".into(), "cfg".into()]).unwrap();
    assert_eq!(
        &argv[argv.len() - 5..],
        ["--", "me@devbox", "~/'bin/lulu'", "daemon", "--stdio"]
    );
    assert!(ssh_argv("devbox", "lulu; rm -rf ~", &[]).is_err());
}

/// A hostile remote end, byte for byte: the link ends at the first
/// message the protocol does not send, and passes nothing of it.
#[test]
fn the_stream_ends_at_the_first_hostile_message() {
    let mut bytes = Vec::new();
    let good = notify(
        "nvim_exec_lua",
        vec![DISPATCH.into(), Value::Array(vec!["notice".into(), Value::Map(vec![])])],
    );
    rmpv::encode::write_value(&mut bytes, &good).unwrap();
    let bad = notify(
        "nvim_exec_lua",
        vec!["vim.fn.system('id')".into(), Value::Array(vec![])],
    );
    rmpv::encode::write_value(&mut bytes, &bad).unwrap();
    rmpv::encode::write_value(&mut bytes, &good).unwrap();
    let (mut out, remote) = (Vec::new(), Mutex::new(Vec::new()));
    let err = remote_to_editor(
        "devbox",
        &mut &bytes[..],
        &mut out,
        &remote,
        &Mutex::new(Seen::default()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("code of its own"), "{err}");
    let passed = rmpv::decode::read_value(&mut &out[..]).unwrap();
    assert_eq!(passed[2][1][0], Value::from("notice"));
    assert_eq!(
        out.len(),
        {
            let mut one = Vec::new();
            rmpv::encode::write_value(
                &mut one,
                &notify(
                    "nvim_exec_lua",
                    vec![
                        DISPATCH.into(),
                        Value::Array(vec!["notice".into(), Value::Map(vec![]), "devbox".into()]),
                    ],
                ),
            )
            .unwrap();
            one.len()
        },
        "only the first event passed"
    );
    // Not msgpack, and over the size bound.
    let err = remote_to_editor(
        "d",
        &mut &[0xc1u8][..],
        &mut Vec::new(),
        &remote,
        &Mutex::new(Seen::default()),
    );
    assert!(err.is_err());
    let mut huge = vec![0x92, 0x02, 0xc6];
    huge.extend_from_slice(&(u32::MAX).to_be_bytes());
    huge.resize(crate::rpc::framing::MAX_MESSAGE_BYTES + 64, 0);
    let err = remote_to_editor(
        "d",
        &mut &huge[..],
        &mut Vec::new(),
        &remote,
        &Mutex::new(Seen::default()),
    );
    assert!(err.unwrap_err().to_string().contains("limit"));
}
