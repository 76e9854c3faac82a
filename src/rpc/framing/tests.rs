use super::*;

fn encode(value: &Value) -> Vec<u8> {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, value).unwrap();
    bytes
}

/// Whole messages found in `bytes` fed `step` bytes at a time.
fn split(bytes: &[u8], step: usize) -> Vec<usize> {
    let mut scan = Scan::default();
    let mut ends = Vec::new();
    let mut total = 0;
    let mut carry = Vec::new();
    for chunk in bytes.chunks(step) {
        carry.extend_from_slice(chunk);
        let joined = std::mem::take(&mut carry);
        let mut data = &joined[..];
        while !data.is_empty() {
            match scan.feed(data).unwrap() {
                Step::Partial(n) => {
                    total += n;
                    data = &data[n..];
                    carry = data.to_vec();
                    break;
                }
                Step::Whole(n) => {
                    total += n;
                    data = &data[n..];
                    ends.push(total);
                    scan = Scan::default();
                }
            }
        }
    }
    ends
}

#[test]
fn boundaries_are_found_however_the_bytes_arrive() {
    let messages = [
        Value::Array(vec![
            Value::from(0),
            Value::from(7),
            Value::from("lulu.session_list"),
            Value::Array(vec![]),
        ]),
        Value::Array(vec![
            Value::from(2),
            Value::from("lulu.session_write"),
            Value::Array(vec![Value::from("s"), Value::Binary(vec![1; 70_000])]),
        ]),
        Value::Map(vec![
            (Value::from(-3), Value::F64(1.5)),
            (Value::from("x".repeat(300)), Value::Ext(5, vec![0; 20])),
            (Value::from(u64::MAX), Value::Ext(1, vec![0; 4])),
            (Value::Nil, Value::Array(vec![Value::Boolean(true); 20])),
        ]),
    ];
    let mut bytes = Vec::new();
    let mut ends = Vec::new();
    for m in &messages {
        bytes.extend(encode(m));
        ends.push(bytes.len());
    }
    for step in [1, 2, 3, 7, 64, 4096, bytes.len()] {
        assert_eq!(split(&bytes, step), ends, "step {step}");
    }
}

#[test]
fn limits_are_found_without_keeping_the_bytes() {
    let big = encode(&Value::Array(vec![
        Value::from(0),
        Value::from(42),
        Value::from("lulu.session_send"),
        Value::Array(vec![Value::from("s"), Value::from("x".repeat(MAX_MESSAGE_BYTES + 1))]),
    ]));
    let mut scan = Scan::default();
    let mut data = &big[..];
    while let Step::Partial(n) = scan.feed(&data[..data.len().min(65536)]).unwrap() {
        data = &data[n..];
    }
    assert_eq!(scan.refused, Some("bytes"));
    assert_eq!(scan.msgid, Some(42));

    let nils = encode(&Value::Array(vec![Value::Nil; MAX_MESSAGE_VALUES as usize]));
    let mut scan = Scan::default();
    assert!(matches!(scan.feed(&nils).unwrap(), Step::Whole(_)));
    assert_eq!(scan.refused, Some("values"));
    // A header that promises billions of values is refused at once.
    let mut scan = Scan::default();
    assert!(matches!(
        scan.feed(&[0xdd, 0xff, 0xff, 0xff, 0xff]).unwrap(),
        Step::Partial(5)
    ));
    assert_eq!(scan.refused, Some("values"));
}

#[test]
fn a_long_payload_split_across_reads_ends_its_message() {
    let first = encode(&Value::Array(vec![Value::from(0), Value::Binary(vec![7; 200_000])]));
    let second = encode(&Value::Array(vec![Value::from(1)]));
    let mut bytes = first.clone();
    bytes.extend(&second);
    assert_eq!(split(&bytes, 65536), [first.len(), bytes.len()]);
}

#[test]
fn garbage_is_an_error() {
    assert!(Scan::default().feed(&[0xc1]).is_err());
}
