use super::*;

const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/claude-transcript.jsonl");

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

fn price(input: f64, output: f64) -> Price {
    Price {
        input,
        output,
        cache_write: input * 1.25,
        cache_read: input * 0.1,
    }
}

/// The fixture's models at the prices its figures were worked out with.
fn fixture_overrides() -> BTreeMap<String, Price> {
    BTreeMap::from([
        ("claude-sonnet-4-5".to_string(), price(3.0, 15.0)),
        ("claude-opus-4-1".to_string(), price(15.0, 75.0)),
    ])
}

fn fixture_prices() -> Prices {
    Prices::with_overrides(fixture_overrides())
}

#[test]
fn sums_tokens_once_per_message_and_prices_by_model() {
    let mut tally = Tally::default();
    tally.feed(FIXTURE);
    // sonnet-4 (msg_1, counted once): (100*3 + 50*15 + 1000*3.75 + 2000*0.3) / 1e6
    // opus-4 (msg_2): (10*15 + 20*75) / 1e6
    // haiku (msg_3): its own costUSD, 0.5
    let cost = tally.usage.cost(&fixture_prices());
    assert!(close(cost.usd.unwrap(), 0.0054 + 0.00165 + 0.5), "{cost:?}");
    assert_eq!(
        tally.tokens(),
        Tokens {
            input: 117,
            output: 73,
            cache_write: 1000,
            cache_read: 2000
        }
    );
    assert_eq!(tally.usage.models.len(), 3);
    assert_eq!(tally.usage.models["claude-sonnet-4-5-20250929"].input, 100);
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
    let mut whole = Tally::default();
    whole.feed(FIXTURE);
    for chunk in [1, 7, 64, 4096] {
        let mut pieces = Tally::default();
        for part in FIXTURE.chunks(chunk) {
            pieces.feed(part);
        }
        assert_eq!(pieces.usage, whole.usage, "chunk {chunk}");
        assert_eq!(pieces.malformed, whole.malformed, "chunk {chunk}");
    }
}

#[test]
fn a_changed_table_re_prices_what_was_counted_but_not_the_agents_own_figures() {
    let mut tally = Tally::default();
    tally.feed(FIXTURE);
    let before = tally.usage.cost(&fixture_prices()).usd.unwrap();
    let mut overrides = fixture_overrides();
    overrides.insert("claude-opus-4-1".to_string(), price(30.0, 150.0));
    let dearer = Prices::with_overrides(overrides);
    let after = tally.usage.cost(&dearer).usd.unwrap();
    assert!(
        close(after - before, 0.00165),
        "opus's share doubles: {before} -> {after}"
    );
    // Stored and read back, it prices the same.
    let stored: Usage = serde_json::from_str(&serde_json::to_string(&tally.usage).unwrap()).unwrap();
    assert_eq!(stored.cost(&dearer), tally.usage.cost(&dearer));
}

#[test]
fn claudes_cost_state_prices_everything_before_it() {
    let lines = concat!(
        r#"{"type":"assistant","requestId":"r1","message":{"id":"m1","model":"claude-opus-5-5","usage":{"input_tokens":1000,"output_tokens":100}}}"#,
        "\n",
        r#"{"type":"cost-state","sessionId":"s","totalCostUSD":0.25,"modelUsage":{},"hasUnknownModelCost":false}"#,
        "\n",
        r#"{"type":"assistant","requestId":"r2","message":{"id":"m2","model":"claude-opus-5-5","usage":{"input_tokens":1000,"output_tokens":0}}}"#,
        "\n",
    );
    let mut tally = Tally::default();
    tally.feed(lines.as_bytes());
    let price = Prices::default().for_model("claude-opus-5-5").unwrap();
    let cost = tally.usage.cost(&Prices::default()).usd.unwrap();
    assert!(close(cost, 0.25 + 1000.0 * price.input / 1e6), "{cost}");
    // A later total replaces the first (it is cumulative).
    tally.feed(b"{\"type\":\"cost-state\",\"totalCostUSD\":0.5}\n");
    assert!(close(tally.usage.cost(&Prices::default()).usd.unwrap(), 0.5));
    // One that says a price was unknown is not taken.
    tally.feed(b"{\"type\":\"cost-state\",\"totalCostUSD\":0.01,\"hasUnknownModelCost\":true}\n");
    assert!(close(tally.usage.cost(&Prices::default()).usd.unwrap(), 0.5));
}

#[test]
fn the_shipped_table_is_generated_and_prices_each_pinned_clis_default_model() {
    assert!(Prices::source().starts_with("litellm "), "{}", Prices::source());
    // The default models of the pinned CLIs (scripts/install-agents), as
    // they asked the model server: claude 2.1.330, codex 0.169.0, and
    // gemini 0.61.0's main and routing models.
    let prices = Prices::default();
    for model in [
        "claude-opus-5-5",
        "gpt-6.1-sol",
        "gemini-3.8-flash",
        "gemini-3.5-flash-lite",
    ] {
        let price = prices
            .for_model(model)
            .unwrap_or_else(|| panic!("{model} has no price: run scripts/update-prices"));
        assert!(price.input > 0.0 && price.output > 0.0, "{model}: {price:?}");
    }
}

#[test]
fn prices_match_the_longest_prefix_and_can_be_overridden() {
    let prices = Prices::default();
    assert_eq!(prices.for_model("claude-opus-4-5-20251101").unwrap().input, 5.0);
    assert_eq!(prices.for_model("claude-opus-5-5-20261001").unwrap().input, 4.0);
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
    // The user's prefix wins over a longer, dated name in the shipped table.
    let custom = Prices::with_overrides(BTreeMap::from([("claude-sonnet-4-5".to_string(), price(10.0, 100.0))]));
    assert_eq!(custom.for_model("claude-sonnet-4-5-20250929").unwrap().input, 10.0);
}

#[test]
fn unknown_models_are_counted_but_not_priced() {
    let line =
        br#"{"requestId":"r","message":{"id":"m","model":"mystery-1","usage":{"input_tokens":5,"output_tokens":5}}}
"#;
    let mut tally = Tally::default();
    tally.feed(line);
    let cost = tally.usage.cost(&Prices::default());
    assert_eq!(cost.usd, None, "no cost rather than $0");
    assert_eq!(cost.unpriced.input, 5);
    assert_eq!(tally.tokens().input, 5);
}

#[test]
fn codex_rollout_counts_each_response_once_with_cached_input_apart() {
    // Lines from a real codex 0.169 rollout (two responses on gpt-5, then
    // one record repeated): 2000 in (500 cached) + 50 out, 2100 in + 10 out.
    let fixture = include_bytes!("../../tests/fixtures/codex-rollout.jsonl");
    let mut tally = Tally::new(Format::Codex);
    tally.feed(fixture);
    let want = Tokens {
        input: 1500 + 2100,
        output: 60,
        cache_write: 0,
        cache_read: 500,
    };
    assert_eq!(tally.tokens(), want);
    // gpt-5: $1.25 in, $0.125 cached, $10 out per million.
    assert!(
        close(
            tally.usage.cost(&Prices::default()).usd.unwrap(),
            (3600.0 * 1.25 + 500.0 * 0.125 + 60.0 * 10.0) / 1e6
        ),
        "{:?}",
        tally.usage
    );
    assert_eq!(tally.usage.models.keys().collect::<Vec<_>>(), ["gpt-5"]);
    assert_eq!(tally.malformed, 0);
}

#[test]
fn codex_usage_before_any_turn_context_is_counted_unpriced() {
    let line = br#"{"type":"token_usage_record","payload":{"response_id":"r1","usage":{"input_tokens":10,"cached_input_tokens":0,"output_tokens":5}}}
"#;
    let mut tally = Tally::new(Format::Codex);
    tally.feed(line);
    let cost = tally.usage.cost(&Prices::default());
    assert_eq!(cost.usd, None);
    assert_eq!(cost.unpriced.input, 10);
}

#[test]
fn gemini_chat_counts_the_last_line_of_each_message() {
    // A real gemini 0.61 chat file: a tool call whose message is written
    // twice (the second time with its toolCalls), then the answer.
    // 1000 in (200 cached) + 100 out, then 1200 in + 20 out.
    let fixture = include_bytes!("../../tests/fixtures/gemini-chat.jsonl");
    let prices = Prices::with_overrides(BTreeMap::from([(
        "gemini-3.8-flash".to_string(),
        Price {
            input: 2.0,
            output: 12.0,
            cache_write: 0.0,
            cache_read: 0.5,
        },
    )]));
    let mut tally = Tally::new(Format::Gemini);
    tally.feed(fixture);
    let want = Tokens {
        input: 800 + 1200,
        output: 120,
        cache_write: 0,
        cache_read: 200,
    };
    assert_eq!(tally.tokens(), want);
    assert!(
        close(
            tally.usage.cost(&prices).usd.unwrap(),
            (2000.0 * 2.0 + 200.0 * 0.5 + 120.0 * 12.0) / 1e6
        ),
        "{:?}",
        tally.usage
    );
    assert_eq!(tally.usage.models.keys().collect::<Vec<_>>(), ["gemini-3.8-flash"]);
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
    tally.feed(line(5, 0).as_bytes());
    tally.feed(line(7, 2).as_bytes());
    let cost = tally.usage.cost(&Prices::default());
    assert_eq!(
        cost.unpriced,
        Tokens {
            input: 13,
            output: 9,
            cache_write: 0,
            cache_read: 0
        },
        "tool-use prompt tokens are input, thoughts are output, once"
    );
    assert_eq!(cost.usd, None);
}

#[test]
fn each_transcript_names_its_conversation() {
    let mut claude = Tally::default();
    claude.feed(FIXTURE);
    assert_eq!(claude.conversation.as_deref(), Some("s1"));

    let mut codex = Tally::new(Format::Codex);
    codex.feed(
        br#"{"type":"session_meta","payload":{"id":"01a23199-6661-71d3-953c-c911fc34ed50","cwd":"/r"}}
"#,
    );
    assert_eq!(
        codex.conversation.as_deref(),
        Some("01a23199-6661-71d3-953c-c911fc34ed50")
    );

    let mut gemini = Tally::new(Format::Gemini);
    gemini.feed(include_bytes!("../../tests/fixtures/gemini-chat.jsonl"));
    assert_eq!(
        gemini.conversation.as_deref(),
        Some("d1d7da6b-3e93-40b8-b50b-6409830e8f44")
    );

    // What would be read as a flag, or is not an id at all, is not taken.
    let mut hostile = Tally::default();
    for id in ["--dangerously-skip-permissions", "a b", "x;rm -rf ~", ""] {
        hostile.feed(format!("{{\"sessionId\":{}}}\n", serde_json::json!(id)).as_bytes());
    }
    assert_eq!(hostile.conversation, None);
}
