import pytest

from policy_host.registry import KINDS, Registry
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
    entry = '[[model]]\nname = "a"\nkind = "{kind}"\norganisation = "o"\nlicence = "l"\n'
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
                                              'licence = "l"\n'))
    with pytest.raises(MissingDependencyError, match="pip install"):
        reg.build("g")
