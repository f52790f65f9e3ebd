import mailbox
import subprocess
import sys
import textwrap
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

from services.email import message_id
from services.mail_log import MailLog

REPO_ROOT = Path(__file__).resolve().parents[3]
KEY_HEADER = "X-Leadpipe-Idempotency-Key"


def message(key: str, body: str = "Hi Ada!") -> EmailMessage:
    m = EmailMessage()
    m["From"] = "leadpipe@localhost"
    m["To"] = "ada@example.com"
    m["Subject"] = f"About {key}"
    m["Message-ID"] = message_id(key, "localhost")
    m[KEY_HEADER] = key
    m.set_content(body)
    return m


def keys_in(path: Path) -> Counter[str]:
    """Messages per idempotency key, as a mail client reading the mbox counts them."""
    return Counter(str(m[KEY_HEADER]) for m in mailbox.mbox(path, create=False))


class TestMailLog:
    def test_a_key_already_written_is_not_written_again(self, tmp_path: Path) -> None:
        log = MailLog(tmp_path / "mail.log")
        assert log.append_once(message("k/1"))
        assert not log.append_once(message("k/1"))
        assert log.append_once(message("k/2"))
        assert keys_in(log.path) == {"k/1": 1, "k/2": 1}

    def test_a_key_another_writer_wrote_is_not_written_again(self, tmp_path: Path) -> None:
        path = tmp_path / "mail.log"
        first, second = MailLog(path), MailLog(path)
        assert second.append_once(message("k/0"))  # `second` has read the log before
        assert first.append_once(message("k/1"))
        assert not second.append_once(message("k/1"))
        assert not MailLog(path).append_once(message("k/0"))
        assert keys_in(path) == {"k/0": 1, "k/1": 1}

    def test_processes_writing_the_same_keys_at_once_write_each_once(self, tmp_path: Path) -> None:
        path = tmp_path / "mail.log"
        script = textwrap.dedent(
            """
            import random, sys, time
            from pathlib import Path
            from tests.unit.services.test_mail_log import message
            from services.mail_log import MailLog
            keys = [f"chain-1-{i}-v1/a_00000001/1" for i in range(100)]
            random.Random(int(sys.argv[2])).shuffle(keys)
            log = MailLog(Path(sys.argv[1]))
            print("ready", flush=True)
            while not Path(sys.argv[1] + ".go").exists():
                time.sleep(0.001)
            print(sum(log.append_once(message(k)) for k in keys))
            """
        )
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", script, str(path), str(seed)],
                cwd=REPO_ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for seed in range(4)
        ]
        for w in writers:  # all imported and waiting: they start together
            assert w.stdout is not None and w.stdout.readline() == "ready\n"
        Path(f"{path}.go").touch()
        written = [int(w.communicate(timeout=60)[0]) for w in writers]
        assert sum(written) == 100
        counts = keys_in(path)
        assert len(counts) == 100 and set(counts.values()) == {1}

    def test_a_body_line_that_looks_like_a_header_marks_nothing_sent(self, tmp_path: Path) -> None:
        log = MailLog(tmp_path / "mail.log")
        other = message_id("k/2", "localhost")
        body = f"From the team:\nMessage-ID: {other}\n"
        assert log.append_once(message("k/1", body))
        assert MailLog(log.path).append_once(message("k/2"))
        first = next(iter(mailbox.mbox(log.path, create=False)))
        assert first.get_payload() == f">From the team:\nMessage-ID: {other}\n"
        assert keys_in(log.path) == {"k/1": 1, "k/2": 1}

    def test_a_message_cut_short_leaves_the_next_ones_readable(self, tmp_path: Path) -> None:
        path = tmp_path / "mail.log"
        # A writer killed inside its write: headers begun, no line end.
        path.write_bytes(b"From leadpipe Mon Jan 05 10:00:00 2026\nTo: ada@exam")
        assert MailLog(path).append_once(message("k/1"))
        assert not MailLog(path).append_once(message("k/1"))
        _cut, whole = mailbox.mbox(path, create=False)
        assert whole["To"] == "ada@example.com" and whole[KEY_HEADER] == "k/1"

    def test_a_long_key_stays_on_one_header_line(self, tmp_path: Path) -> None:
        key = "chain-1-2-v3/" + "a_00000001" * 25 + "/1"
        log = MailLog(tmp_path / "mail.log")
        assert log.append_once(message(key))
        assert f"{KEY_HEADER}: {key}\n" in log.path.read_text()
        assert not MailLog(log.path).append_once(message(key))

    def test_a_log_replaced_meanwhile_is_read_again(self, tmp_path: Path) -> None:
        log = MailLog(tmp_path / "mail.log")
        assert log.append_once(message("k/1"))
        log.path.unlink()
        assert log.append_once(message("k/1"))
        assert keys_in(log.path) == {"k/1": 1}
