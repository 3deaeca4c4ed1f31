//! `fast-autoscaler simulate`: the default run and its bad inputs.

use fast_autoscaler_tests::run_cli;

#[test]
fn the_default_simulation_compares_strategies_and_draws_them() {
    let chart = std::env::temp_dir().join(format!("fa-simulation-{}.svg", std::process::id()));
    let chart_arg = chart.to_string_lossy().to_string();
    let (code, stdout, stderr) = run_cli(&[], &["simulate", "--svg", &chart_arg]);
    assert_eq!(code, 0, "{stderr}");
    let strategies = [
        "original step 60s",
        "step 10s",
        "recommended 10s",
        "aws target tracking",
        "keda defaults",
    ];
    for strategy in strategies {
        assert_eq!(
            stdout.lines().filter(|l| l.starts_with(strategy)).count(),
            1,
            "{strategy} in:\n{stdout}"
        );
    }
    // The original's 60-second schedule is the baseline of the ratio columns.
    let baseline = stdout
        .lines()
        .find(|l| l.starts_with("original step 60s"))
        .expect("baseline row");
    assert!(baseline.contains("1.00  1.00  1.00"), "{baseline}");
    // The recommended policy answers the spike with a lower p99 than the original.
    let ratio_of = |line: &str| -> f64 {
        let after = line.split('|').nth(1).expect("ratio columns");
        after
            .split_whitespace()
            .next()
            .expect("p99 ratio")
            .parse()
            .expect("a number")
    };
    let ours = stdout
        .lines()
        .find(|l| l.starts_with("recommended 10s"))
        .expect("row");
    assert!(ratio_of(ours) < 1.0, "{ours}");

    let svg = std::fs::read_to_string(&chart).expect("the chart is written");
    let _ = std::fs::remove_file(&chart);
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg:.200}"
    );
    // Two panels (backlog, tasks), one line per strategy in each, and a legend.
    assert_eq!(svg.matches("<polyline").count(), 2 * strategies.len());
    for strategy in strategies {
        assert!(svg.contains(strategy), "legend lacks {strategy}");
    }
}

#[test]
fn bad_simulation_inputs_exit_2_naming_the_flag() {
    for (args, needle) in [
        (
            &["simulate", "--trace", "tsunami"][..],
            "--trace \"tsunami\"",
        ),
        (&["simulate", "--mu", "0"][..], "--mu"),
        (&["simulate", "--hours", "0"][..], "--hours"),
        (
            &["simulate", "--svg", "/nonexistent-dir/chart.svg"][..],
            "--svg",
        ),
    ] {
        let (code, _, stderr) = run_cli(&[], args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
