"""boot_config and boot_files: local rendering and TFTP root layout (no controller needed)."""

from __future__ import annotations

import os

NODES = [
    {"mac": "52:54:00:0d:00:01", "state": "active", "hostname": "ignored-extra-key"},
    {"mac": "52-54-00-0D-00-02", "state": "pending"},
    {"mac": "52:54:00:0d:00:03", "state": "retired"},
    {"mac": "52:54:00:0d:00:04", "state": "installing", "kernel": "http://c/vmlinuz", "initrd": "http://c/initrd",
     "cmdline": "console=ttyS0"},
]


def boot_config(dest, nodes=None, **extra):
    args = {"dest": str(dest), "nodes": nodes or NODES,
            "controller_url": "http://pureboot.test:8080"}
    args.update(extra)
    args = {k: v for k, v in args.items() if v is not None}
    return {"name": "render", "pureboot.pureboot.boot_config": args, "register": "out", "ignore_errors": True}


def test_boot_config_renders_the_controllers_decisions(local_ansible, tmp_path):
    dest = tmp_path / "tftp"
    rc, res, _ = local_ansible.playbook([boot_config(dest)], check=True)
    assert res["render"]["changed"] and not dest.exists(), res
    rc, res, _ = local_ansible.playbook([boot_config(dest)])
    assert rc == 0, res
    assert res["render"]["changed"] and len(res["render"]["files"]) == 12
    active_ipxe = (dest / "ipxe/52-54-00-0d-00-01.ipxe").read_text()
    assert active_ipxe.startswith("#!ipxe") and "sanboot --no-describe --drive 0x80" in active_ipxe
    assert "LOCALBOOT 0" in (dest / "pxelinux.cfg/01-52-54-00-0d-00-01").read_text()
    grub_local = (dest / "grub/grub.cfg-01-52-54-00-0d-00-01").read_text()
    assert "chainloader $f" in grub_local and "/EFI/BOOT/BOOTX64.EFI" in grub_local
    pending = (dest / "ipxe/52-54-00-0d-00-02.ipxe").read_text()
    assert "chain --replace http://pureboot.test:8080/boot/ipxe?mac=52:54:00:0d:00:02" in pending
    assert "KERNEL ipxe.lkrn" in (dest / "pxelinux.cfg/01-52-54-00-0d-00-02").read_text()
    assert "chainloader /ipxe.efi" in (dest / "grub/grub.cfg-01-52-54-00-0d-00-02").read_text()
    assert "LOCALBOOT -1" in (dest / "pxelinux.cfg/01-52-54-00-0d-00-03").read_text()
    direct = (dest / "pxelinux.cfg/01-52-54-00-0d-00-04").read_text()
    assert "KERNEL http://c/vmlinuz" in direct and "APPEND console=ttyS0" in direct
    assert oct(os.stat(dest / "ipxe/52-54-00-0d-00-01.ipxe").st_mode & 0o777) == "0o644"

    rc, res, _ = local_ansible.playbook([boot_config(dest)])
    assert res["render"]["changed"] is False and res["render"]["changed_files"] == []

    moved = [dict(NODES[0], state="pending")] + NODES[1:]
    rc, res, _ = local_ansible.playbook([boot_config(dest, moved)], diff=True)
    assert res["render"]["changed"]
    assert sorted(res["render"]["changed_files"]) == sorted([
        "ipxe/52-54-00-0d-00-01.ipxe", "pxelinux.cfg/01-52-54-00-0d-00-01", "grub/grub.cfg-01-52-54-00-0d-00-01"])
    assert any("sanboot" in d["before"] and "chain --replace" in d["after"] for d in res["render"]["diff"])


def test_boot_config_errors(local_ansible, tmp_path):
    rc, res, _ = local_ansible.playbook([
        dict(boot_config(tmp_path, [{"mac": "zz", "state": "active"}]), name="bad mac"),
        dict(boot_config(tmp_path, [{"mac": "52:54:00:0d:00:09", "state": "sleeping"}]), name="bad state"),
        dict(boot_config(tmp_path, [{"mac": "52:54:00:0d:00:09"}]), name="no state"),
        dict(boot_config(tmp_path, [{"mac": "52:54:00:0d:00:09", "state": "pending"}], controller_url=None),
             name="network without controller"),
    ])
    assert "not a MAC address" in res["bad mac"]["msg"]
    assert "unknown lifecycle state" in res["bad state"]["msg"]
    assert res["no state"]["msg"] == "nodes[0] has no state"
    assert "set controller_url" in res["network without controller"]["msg"]
    assert not (tmp_path / "ipxe").exists()


def test_boot_files_lays_out_the_tftp_root(local_ansible, tmp_path):
    dest = tmp_path / "tftp"
    step = {"name": "files", "pureboot.pureboot.boot_files": {"dest": str(dest)}, "register": "out"}
    rc, res, _ = local_ansible.playbook([step], check=True)
    assert res["files"]["changed"] and not dest.exists()
    rc, res, _ = local_ansible.playbook([step])
    assert rc == 0 and res["files"]["changed"], res
    for src, name in (("/usr/lib/PXELINUX/pxelinux.0", "pxelinux.0"), ("/usr/lib/ipxe/undionly.kpxe", "undionly.kpxe"),
                      ("/usr/lib/ipxe/ipxe.lkrn", "ipxe.lkrn")):
        assert (dest / name).read_bytes() == open(src, "rb").read()  # scripts/apt-packages.txt installs them
    assert "pxelinux.0" in res["files"]["copied"] and "grub/grub.cfg" in res["files"]["copied"]
    rc, res, _ = local_ansible.playbook([step])
    assert res["files"]["changed"] is False and res["files"]["copied"] == [] and res["files"]["built"] == []
    (dest / "pxelinux.0").write_bytes(b"tampered")
    rc, res, _ = local_ansible.playbook([step])
    assert res["files"]["copied"] == ["pxelinux.0"]
    rc, res, _ = local_ansible.playbook([dict(step, **{"pureboot.pureboot.boot_files": {
        "dest": str(dest), "require_all": True}}, ignore_errors=True)])
    if res["files"].get("missing"):  # e.g. no grub-efi-arm64-bin here
        assert res["files"]["failed"] and "boot loaders missing" in res["files"]["msg"]
