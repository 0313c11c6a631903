#!/usr/bin/env bash
# Issue 11's regression tests run against the code as it was when the findings were filed (d19cba1).
# Creates a throwaway detached worktree (outside the branch history), copies the listed tests into it with
# their imports ported to that tree's modules (the substitutions below, nothing else), runs them on their own
# database and Redis db, prints FAIL/PASS per test with the first failing line, then removes the worktree.
# Expected: every finding's tests FAIL on d19cba1 (and pass on this tree). Not part of `make test`.
#   scripts/reproduce_findings.sh            # REPRO_KEEP=1 keeps the old worktree for a look
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
OLD_COMMIT=${REPRO_COMMIT:-d19cba1}
OLD=${REPRO_WORKTREE:-$(dirname "$ROOT")/wt-old}
DB=${REPRO_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/tradedesk_old}
BROKER=${REPRO_BROKER_URL:-redis://127.0.0.1:6379/7}
PY="$ROOT/.venv/bin/python"

cleanup() {
    if [ "${REPRO_KEEP:-0}" != 1 ] && [ -d "$OLD" ]; then
        git -C "$ROOT" worktree remove --force "$OLD" || true
    fi
}
trap cleanup EXIT

if [ -e "$OLD" ]; then git -C "$ROOT" worktree remove --force "$OLD" 2>/dev/null || rm -rf "$OLD"; fi
git -C "$ROOT" worktree add --detach "$OLD" "$OLD_COMMIT" >/dev/null
ln -s "$(readlink -f "$ROOT/.venv")" "$OLD/.venv"

# The port: each listed file is copied to tests/repro/ in the old tree; these are the only edits (the imports
# map today's execution packages back to the old tree's flat modules).
"$PY" - "$ROOT" "$OLD" <<'PORT'
import ast
import sys
from pathlib import Path

root, old = Path(sys.argv[1]), Path(sys.argv[2])
dest = old / "tests" / "repro"
dest.mkdir()
(dest / "__init__.py").write_text("")

# Names the old tree lacks: a placeholder that fails where a test uses it (the finding's new guarantee).
MISSING = "class _NotInOldTree:\n    def __getattr__(self, name):\n        raise AssertionError('not in the old tree: ' + name)\n"
PORTS = {
    "tests/tradedesk/api/test_inputs.py": [
        # d19cba1's post_save receiver calls _enqueue(order_id) (no routing module yet).
        ('"execution.signals.dispatch_enqueue", lambda **kwargs: None', '"execution.signals._enqueue", lambda order_id: None'),
    ],
    "tests/execution/ingest/test_event_files.py": [
        # d19cba1's execution/ was flat (execution/events.py), without read_lines.
        ("from execution.ingest import events as events_module\n", "from execution import events as events_module\n"),
        ("from execution.ingest.events import ", "from execution.events import "),
        ("from execution.ingest.files import read_lines\n", ""),
        ("from execution.models import BadEventLine, EventFileCursor\n",
         "from execution.models import EventFileCursor\n" + MISSING + "BadEventLine = _NotInOldTree()\n"),
    ],
    "tests/execution/engine/test_engine_files.py": [
        # d19cba1's flat modules: execution/engines.py, files.py, supervise.py.
        (
            "from execution.contract.files import read_json, write_json_atomic\n"
            "from execution.engine import process as engines\n"
            "from execution.engine.supervise import ",
            "from execution import engines\nfrom execution.files import read_json, write_json_atomic\n"
            "from execution.supervise import ",
        ),
        # d19cba1's simulator appended with a plain open(events_file, "ab", buffering=0) (Engine.append_line).
        ("[simulator.open_events_for_append]", '[lambda path: open(path, "ab", buffering=0)]'),
        # d19cba1's supervisor took no list of secrets to mask.
        ("write_fd, [])", "write_fd)"),
    ],
    "tests/test_security.py": [],
    "tests/orders/services/test_orders.py": [],
}
for name, substitutions in PORTS.items():
    text = (root / name).read_text()
    for before, after in substitutions:
        assert before in text, (name, before)
        text = text.replace(before, after)
    (dest / Path(name).name).write_text(text)

# The LEAN algorithm test needs that module's own fake-LEAN fixtures: appended to the old tree's module.
source = (root / "tests/execution/lean/test_lean_algorithm.py").read_text()
tree = ast.parse(source)
wanted = {"test_the_algorithm_never_appends_through_a_symlinked_events_file"}
functions = [ast.get_source_segment(source, n) for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in wanted]
with open(old / "tests/execution/test_lean_algorithm.py", "a") as handle:
    handle.write("\n\n" + "\n\n\n".join(functions) + "\n")
PORT

# finding|test node id (relative to the old tree)[|guard]: a guard is a neighbouring guarantee that already held on
# the old code (it is expected to PASS there and proves no finding); every other test must FAIL there.
TESTS=$(cat <<'LIST'
1|tests/repro/test_inputs.py::test_huge_exponents_are_422_naming_the_field_not_a_500
1|tests/repro/test_inputs.py::test_a_json_number_with_a_huge_exponent_is_422
1|tests/repro/test_inputs.py::test_page_form_with_a_huge_exponent_shows_the_field_error
1|tests/repro/test_inputs.py::test_ids_and_offsets_beyond_the_database_range_are_422
1|tests/repro/test_inputs.py::test_path_and_query_ids_beyond_the_database_range_are_not_a_500
1|tests/repro/test_inputs.py::test_page_ids_beyond_the_database_range_are_404|guard
2|tests/repro/test_event_files.py::test_a_directory_named_events_jsonl_is_skipped_and_other_engines_go_on
2|tests/repro/test_event_files.py::test_the_beat_task_survives_a_bad_events_path
2|tests/repro/test_event_files.py::test_order_reads_answer_200_while_an_events_path_is_bad
2|tests/repro/test_event_files.py::test_a_symlink_loop_is_skipped
3|tests/repro/test_event_files.py::test_a_fill_appended_just_before_a_rotation_is_applied
3|tests/repro/test_event_files.py::test_after_a_rotation_the_new_file_is_read_from_its_start|guard
4|tests/repro/test_event_files.py::test_a_line_over_the_cap_is_a_bad_line_with_an_excerpt
4|tests/repro/test_event_files.py::test_a_torn_line_over_the_cap_is_not_read_again_every_tick
4|tests/repro/test_event_files.py::test_dev_zero_as_events_file_is_skipped
4|tests/repro/test_event_files.py::test_a_backlog_is_applied_over_several_transactions_within_the_budget|guard
4|tests/repro/test_event_files.py::test_bad_lines_are_stored_and_logged_once_per_batch
5|tests/repro/test_event_files.py::test_a_symlinked_events_file_is_not_read
5|tests/repro/test_event_files.py::test_an_engine_folder_linked_outside_the_root_is_not_read
5|tests/repro/test_event_files.py::test_a_fifo_is_skipped_without_blocking
5|tests/repro/test_engine_files.py::test_engines_never_append_through_a_symlinked_events_file
5|tests/repro/test_engine_files.py::test_engine_json_files_are_read_without_following_symlinks
5|tests/execution/test_lean_algorithm.py::test_the_algorithm_never_appends_through_a_symlinked_events_file
6|tests/repro/test_security.py::test_engines_endpoint_shows_a_trader_only_the_state_of_their_modes
6|tests/repro/test_engine_files.py::test_the_supervisor_masks_configured_secrets_and_writes_engine_log_0600
7|tests/repro/test_security.py::test_failed_logins_for_one_user_never_lock_out_another_user_from_the_same_address
8|tests/repro/test_inputs.py::test_no_bad_or_revoked_token_on_a_post_is_401_json_not_a_csrf_403
8|tests/repro/test_inputs.py::test_session_post_without_csrf_token_is_403_csrf_failed
8|tests/repro/test_inputs.py::test_a_body_over_the_cap_is_413_json
8|tests/repro/test_inputs.py::test_unsupported_methods_are_405_json
8|tests/repro/test_inputs.py::test_unknown_api_routes_are_404_json
8|tests/repro/test_inputs.py::test_non_object_bodies_are_400_with_a_code
9|tests/repro/test_inputs.py::test_loose_values_and_unknown_fields_are_422_naming_the_field
10|tests/repro/test_engine_files.py::test_nothing_under_var_is_readable_by_other_users
10|tests/repro/test_engine_files.py::test_a_command_result_is_removed_once_read
10|tests/repro/test_orders.py::test_a_user_without_a_project_is_told_to_ask_for_access_and_nothing_is_created
LIST
)

# Each test runs in its own pytest process, bounded: a finding that hangs or eats memory on the old code
# (/dev/zero as an events file) is a FAIL ("timed out" / "killed"), and never takes the machine with it.
# A test is FAIL when any of its cases fails or errors; the reason is the first failing line pytest reports.
PER_TEST_SECONDS=${REPRO_TEST_TIMEOUT:-90}
export DATABASE_URL=$DB CELERY_BROKER_URL=$BROKER DJANGO_ALLOW_ASYNC_UNSAFE=true TRADEDESK_DUPLICATE_WINDOW_SECONDS=0
cd "$OLD"
mkdir -p repro
fails=0
total=0
guards=0
surprises=0
first=--create-db
while IFS='|' read -r finding node kind; do
    [ -n "$node" ] || continue
    name=${node##*::}
    xml="repro/$name.xml"
    set +e
    (ulimit -v 4000000; timeout -k 5 "$PER_TEST_SECONDS" "$OLD/.venv/bin/pytest" -q -p no:cacheprovider \
        -o addopts="" --reuse-db $first --junitxml="$xml" "$node" >"repro/$name.log" 2>&1 </dev/null)
    rc=$?
    set -e
    first=
    [ "$kind" = guard ] && guards=$((guards + 1)) || total=$((total + 1))
    why=$("$PY" - "$xml" "$rc" <<'REPORT'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

xml, rc = Path(sys.argv[1]), int(sys.argv[2])
if rc in (124, 137) or not xml.exists():
    print("FAIL", "timed out (never returned)" if rc in (124, 137) else f"killed (exit {rc}): no report")
    sys.exit()
verdicts = []
for case in ET.parse(xml).iter("testcase"):
    problem = case.find("failure")
    if problem is None:
        problem = case.find("error")
    if case.find("skipped") is not None:
        verdicts.append("SKIP")
    elif problem is not None:
        lines = [line[1:].strip() for line in (problem.text or "").splitlines() if line.startswith("E ")]
        verdicts.append((lines[0] if lines else problem.get("message", "failed"))[:160])
    else:
        verdicts.append("")
failed = [v for v in verdicts if v and v != "SKIP"]
if failed:
    print("FAIL", f"{len(failed)}/{len(verdicts)} cases:", failed[0])
elif verdicts and all(v == "SKIP" for v in verdicts):
    print("SKIP")
else:
    print("PASS" if verdicts else "FAIL not collected")
REPORT
)
    verdict=${why%% *}
    reason=
    [[ $why == *" "* ]] && reason=${why#* }
    if [ "$kind" = guard ]; then
        verdict="$verdict(guard)"
        [ "${why%% *}" = PASS ] || surprises=$((surprises + 1))
    else
        [ "${why%% *}" = FAIL ] && fails=$((fails + 1)) || surprises=$((surprises + 1))
    fi
    printf 'finding %2s  %-11s %s  %s\n' "$finding" "$verdict" "$name" "$reason"
done <<<"$TESTS"
echo "$fails of $total finding tests fail on $OLD_COMMIT (expected: all); $guards guards; $surprises unexpected"
[ "$surprises" -eq 0 ]
