use super::*;

const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/claude-transcript.jsonl");

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn sums_tokens_once_per_message_and_prices_by_model() {
    let prices = Prices::default();
    let mut tally = Tally::default();
    tally.feed(FIXTURE, &prices);
    // sonnet-4 (msg_1, counted once): (100*3 + 50*15 + 1000*3.75 + 2000*0.3) / 1e6
    // opus-4 (msg_2): (10*15 + 20*75) / 1e6
    // haiku (msg_3): its own costUSD, 0.5
    assert!(close(tally.cost_usd, 0.0054 + 0.00165 + 0.5), "{}", tally.cost_usd);
    assert_eq!(
        tally.tokens(),
        Tokens {
            input: 117,
            output: 73,
            cache_write: 1000,
            cache_read: 2000
        }
    );
    assert_eq!(tally.by_model.len(), 3);
    assert_eq!(tally.by_model["claude-sonnet-4-5-20250929"].input, 100);
    assert_eq!(
        tally.malformed, 1,
        "the bad line; the truncated last one is still pending"
    );
    tally.finish();
    assert_eq!(tally.malformed, 2, "the truncated last line, once complete");
    assert_eq!(tally.offset, FIXTURE.len() as u64);
}

#[test]
fn reading_in_pieces_gives_the_same_total() {
    let prices = Prices::default();
    let mut whole = Tally::default();
    whole.feed(FIXTURE, &prices);
    for chunk in [1, 7, 64, 4096] {
        let mut pieces = Tally::default();
        for part in FIXTURE.chunks(chunk) {
            pieces.feed(part, &prices);
        }
        assert!(close(pieces.cost_usd, whole.cost_usd), "chunk {chunk}");
        assert_eq!(pieces.tokens(), whole.tokens(), "chunk {chunk}");
        assert_eq!(pieces.malformed, whole.malformed, "chunk {chunk}");
    }
}

#[test]
fn prices_match_the_longest_prefix_and_can_be_overridden() {
    let prices = Prices::default();
    assert_eq!(prices.for_model("claude-opus-4-5-20251101").unwrap().input, 5.0);
    assert_eq!(prices.for_model("claude-opus-4-1-20250805").unwrap().input, 15.0);
    assert_eq!(prices.for_model("gemini-2.5-flash-lite-001").unwrap().output, 0.4);
    assert_eq!(prices.for_model("gemini-2.5-flash").unwrap().output, 2.5);
    assert_eq!(prices.for_model("gemini-1.5-pro"), None);
    assert_eq!(prices.for_model("gpt-5-codex").unwrap().cache_read, 0.125);
    let custom = Prices::with_overrides(BTreeMap::from([(
        "gpt-5-codex".to_string(),
        Price {
            input: 2.0,
            output: 20.0,
            cache_write: 0.0,
            cache_read: 0.2,
        },
    )]));
    assert_eq!(custom.for_model("gpt-5-codex-mini").unwrap().output, 20.0);
    assert_eq!(custom.for_model("gpt-5").unwrap().output, 10.0);
}

#[test]
fn unknown_models_are_counted_but_not_priced() {
    let line =
        br#"{"requestId":"r","message":{"id":"m","model":"mystery-1","usage":{"input_tokens":5,"output_tokens":5}}}
"#;
    let mut tally = Tally::default();
    tally.feed(line, &Prices::default());
    assert_eq!(tally.cost_usd, 0.0);
    assert_eq!(tally.unpriced.input, 5);
    assert!(tally.by_model.is_empty());
}

#[test]
fn codex_rollout_counts_each_response_once_with_cached_input_apart() {
    // Lines from a real codex 0.169 rollout (two responses on gpt-5, then
    // one record repeated): 2000 in (500 cached) + 50 out, 2100 in + 10 out.
    let fixture = include_bytes!("../../tests/fixtures/codex-rollout.jsonl");
    let mut tally = Tally::new(Format::Codex);
    tally.feed(fixture, &Prices::default());
    let want = Tokens {
        input: 1500 + 2100,
        output: 60,
        cache_write: 0,
        cache_read: 500,
    };
    assert_eq!(tally.tokens(), want);
    // gpt-5: $1.25 in, $0.125 cached, $10 out per million.
    assert!(
        close(tally.cost_usd, (3600.0 * 1.25 + 500.0 * 0.125 + 60.0 * 10.0) / 1e6),
        "{}",
        tally.cost_usd
    );
    assert_eq!(tally.by_model.keys().collect::<Vec<_>>(), ["gpt-5"]);
    assert_eq!(tally.malformed, 0);
}

#[test]
fn codex_usage_before_any_turn_context_is_counted_unpriced() {
    let line = br#"{"type":"token_usage_record","payload":{"response_id":"r1","usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":5}}}
"#;
    let mut tally = Tally::new(Format::Codex);
    tally.feed(line, &Prices::default());
    assert_eq!(tally.cost_usd, 0.0);
    assert_eq!(tally.unpriced.input, 10);
}

#[test]
fn gemini_chat_counts_the_last_line_of_each_message() {
    // A real gemini 0.61 chat file: a tool call whose message is written
    // twice (the second time with its toolCalls), then the answer.
    // 1000 in (200 cached) + 100 out, then 1200 in + 20 out.
    let fixture = include_bytes!("../../tests/fixtures/gemini-chat.jsonl");
    let prices = Prices::with_overrides(BTreeMap::from([(
        "gemini".to_string(),
        Price {
            input: 2.0,
            output: 12.0,
            cache_write: 0.0,
            cache_read: 0.5,
        },
    )]));
    let mut tally = Tally::new(Format::Gemini);
    tally.feed(fixture, &prices);
    let want = Tokens {
        input: 800 + 1200,
        output: 120,
        cache_write: 0,
        cache_read: 200,
    };
    assert_eq!(tally.tokens(), want);
    assert!(
        close(tally.cost_usd, (2000.0 * 2.0 + 200.0 * 0.5 + 120.0 * 12.0) / 1e6),
        "{}",
        tally.cost_usd
    );
    assert_eq!(tally.by_model.keys().collect::<Vec<_>>(), ["gemini-3.8-flash"]);
    assert_eq!(tally.malformed, 0);
}

#[test]
fn a_gemini_message_written_again_replaces_its_count() {
    let line = |output: u64, thoughts: u64| {
        format!(
            r#"{{"id":"m1","type":"gemini","model":"gemini-x","tokens":{{"input":10,"output":{output},"cached":0,"thoughts":{thoughts},"tool":3,"total":0}}}}
"#
        )
    };
    let mut tally = Tally::new(Format::Gemini);
    tally.feed(line(5, 0).as_bytes(), &Prices::default());
    tally.feed(line(7, 2).as_bytes(), &Prices::default());
    assert_eq!(
        tally.unpriced,
        Tokens {
            input: 13,
            output: 9,
            cache_write: 0,
            cache_read: 0
        },
        "tool-use prompt tokens are input, thoughts are output, once"
    );
    assert_eq!(tally.cost_usd, 0.0);
}
