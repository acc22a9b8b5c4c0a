"""`g1000 trustee`: the sealing key made and split locally, shares checked and submitted."""

from __future__ import annotations

import hashlib
import json
import stat
from itertools import combinations

import pytest

from g1000 import trustee
from g1000.cli import main
from g1000.errors import TrusteeError
from g1000_proofs import sealing, shamir
from g1000_proofs.errors import SealingError, ShareError

LABELS = ["notary", "delegate", "clerk"]


@pytest.fixture
def made(tmp_path):
    out = tmp_path / "keys"
    args = ["trustee", "keygen", "--k", "2", "--n", "3", "--out", str(out)]
    for label in LABELS:
        args += ["--label", label]
    assert main(args) == 0
    return out


def _shares(out):
    return sorted(out.glob("share-*.txt"))


def test_keygen_writes_one_private_share_per_trustee_and_a_public_file(made):
    files = _shares(made)
    assert [p.name for p in files] == ["share-1-notary.txt", "share-2-delegate.txt", "share-3-clerk.txt"]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    public = json.loads((made / "public.json").read_text())
    assert set(public) == {"public_key", "k", "n", "share_hashes"}
    assert (public["k"], public["n"]) == (2, 3)
    assert public["share_hashes"] == [hashlib.sha256(p.read_text().strip().encode()).hexdigest() for p in files]
    assert sorted(p.name for p in made.iterdir()) == sorted([p.name for p in files] + ["public.json"])


def test_any_k_shares_rebuild_the_key_whose_public_half_is_published(made):
    public = json.loads((made / "public.json").read_text())
    shares = [shamir.Share.decode(p.read_text()) for p in _shares(made)]
    for pair in combinations(shares, 2):
        private = shamir.combine(list(pair)).hex()
        sealing.check_revealed_key(private, public["public_key"])


def test_fewer_than_k_shares_open_nothing(made):
    public = json.loads((made / "public.json").read_text())
    one = shamir.Share.decode(_shares(made)[0].read_text())
    with pytest.raises(ShareError, match="2 shares are needed"):
        shamir.combine([one])
    # one share is consistent with every key: for any other secret a second "share" exists that
    # completes it, so the share alone says nothing about the real key
    for other in (bytes(32), b"\x07" * 32):
        slope = (one.y - int.from_bytes(other, "big")) * pow(one.x, -1, shamir.PRIME) % shamir.PRIME
        completing = shamir.Share(2, 2, (int.from_bytes(other, "big") + 2 * slope) % shamir.PRIME)
        assert shamir.combine([one, completing]) == other
        with pytest.raises(SealingError):
            sealing.check_revealed_key(other.hex(), public["public_key"])


def test_the_private_key_is_in_no_file(made):
    public = json.loads((made / "public.json").read_text())
    shares = [shamir.Share.decode(p.read_text()) for p in _shares(made)]
    private = shamir.combine(shares[:2]).hex()
    assert sealing.public_key_hex(private) == public["public_key"]
    for path in made.iterdir():
        assert private not in path.read_text() and private.upper() not in path.read_text()


def test_check_share_accepts_each_registered_share_and_refuses_another(made, tmp_path, capsys):
    for path in _shares(made):
        assert main(["trustee", "check-share", str(path), "--public", str(made / "public.json")]) == 0
    assert "share 3 of 3 is registered" in capsys.readouterr().out
    other = tmp_path / "other"
    trustee.keygen(2, 3, None, other)
    assert main(["trustee", "check-share", str(_shares(other)[0]), "--public", str(made / "public.json")]) == 1
    assert "is not one of the shares registered" in capsys.readouterr().err


def test_check_share_reads_the_ballot_as_the_api_answers_it(made, tmp_path):
    ballot = tmp_path / "ballot.json"
    ballot.write_text(json.dumps({"ballot_id": "b", "sealing": json.loads((made / "public.json").read_text())}))
    assert "share 1 of 3" in trustee.check_share(_shares(made)[0], ballot)


def test_keygen_refuses_to_overwrite_and_bad_parameters(made, tmp_path):
    with pytest.raises(TrusteeError, match="refusing to overwrite"):
        trustee.keygen(2, 3, LABELS, made)
    with pytest.raises(TrusteeError, match="one label per trustee"):
        trustee.keygen(2, 3, ["a", "b"], tmp_path / "x")
    with pytest.raises(TrusteeError, match="k >= 2"):
        trustee.keygen(1, 3, None, tmp_path / "y")
    with pytest.raises(TrusteeError, match="1 <= k <= n"):
        trustee.keygen(4, 3, None, tmp_path / "z")
    with pytest.raises(TrusteeError, match="label"):
        trustee.keygen(2, 2, ["../up", "b"], tmp_path / "w")


def test_submit_posts_the_shares_text_and_reports_a_refusal(made):
    sent = []

    def post(url, body):
        sent.append((url, body))
        return (202, {"accepted": True}) if len(sent) == 1 else (409, {"detail": "the ballot is not closed"})

    path = _shares(made)[1]
    assert trustee.submit("http://gw/", "s1", "b1", path, post) == {"accepted": True}
    assert sent == [("http://gw/v1/summits/s1/ballots/b1/shares", {"share": path.read_text().strip()})]
    with pytest.raises(TrusteeError, match=r"\(409\): the ballot is not closed"):
        trustee.submit("http://gw", "s1", "b1", path, post)


def test_a_file_that_holds_no_share_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\n")
    public = tmp_path / "public.json"
    public.write_text(json.dumps({"public_key": "00" * 32, "k": 2, "n": 3, "share_hashes": []}))
    assert main(["trustee", "check-share", str(bad), "--public", str(public)]) == 1
    assert "holds no share" in capsys.readouterr().err
