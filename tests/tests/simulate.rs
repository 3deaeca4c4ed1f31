//! `fast-autoscaler simulate`: the default run and its bad inputs.

use fast_autoscaler_tests::run_cli;

#[test]
fn the_default_simulation_compares_four_strategies() {
    let (code, stdout, stderr) = run_cli(&[], &["simulate"]);
    assert_eq!(code, 0, "{stderr}");
    for strategy in [
        "fast-autoscaler 10s",
        "fast-autoscaler 60s",
        "aws target tracking",
        "keda defaults",
    ] {
        assert_eq!(
            stdout.lines().filter(|l| l.starts_with(strategy)).count(),
            1,
            "{strategy} in:\n{stdout}"
        );
    }
    // The 60-second schedule is the baseline of the ratio columns.
    let baseline = stdout
        .lines()
        .find(|l| l.starts_with("fast-autoscaler 60s"))
        .expect("baseline row");
    assert!(
        baseline.trim_end().ends_with("1.00    1.00    1.00"),
        "{baseline}"
    );
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
    ] {
        let (code, _, stderr) = run_cli(&[], args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
