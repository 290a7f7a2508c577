//! Decodes YAML files a number of times, for instruction counts under callgrind or perf
//! (deterministic, unlike timings on a shared machine).
//!
//! usage: decode_files values|stream|head ROUNDS FILE...
//! `values` decodes each file as Helm reads values (`helm::from_str`), `stream` as kustomize
//! reads resources (`parse_documents`), `head` scans each `---`-separated document's head.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [how, rounds, files @ ..] = args.as_slice() else {
        eprintln!("usage: decode_files values|stream|head ROUNDS FILE...");
        std::process::exit(2);
    };
    let rounds: usize = rounds.parse().expect("ROUNDS is a number");
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect();
    let mut count = 0;
    for _ in 0..rounds {
        for text in &texts {
            count += match how.as_str() {
                "values" => usize::from(kiln_yaml::helm::from_str(text).is_ok()),
                "stream" => kiln_yaml::parse_documents(text).map_or(0, |d| d.len()),
                "head" => text
                    .split("\n---\n")
                    .filter(|d| kiln_yaml::helm::scan_head(d).is_ok_and(|h| h.is_some()))
                    .count(),
                other => panic!("unknown mode {other}"),
            };
        }
    }
    println!("{count}");
}
