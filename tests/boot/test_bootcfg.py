"""/boot/...: loader configs from the same decision as /api/v1/next."""

from pureboot.boot.render import grub_url, render_local

from .conftest import MAC, register, set_state

DASHED = MAC.replace(":", "-")


def test_ipxe_entry_chains_with_replace(client):
    script = client.get("/boot/ipxe").get_data(as_text=True)
    assert script.startswith("#!ipxe\n")
    assert "chain --replace --autofree http://127.0.0.1:8080/boot/ipxe?mac=${net0/mac}" in script
    assert "sanboot --no-describe --drive 0x80" in script  # controller unreachable: local


def test_ipxe_install_script_has_kernel_token_and_initrd_name(client, workflow):
    register(client, MAC, workflow["id"])
    script = client.get(f"/boot/ipxe?mac={MAC}&arch=x86_64&platform=efi").get_data(as_text=True)
    kernel = next(line for line in script.splitlines() if line.startswith("kernel "))
    assert kernel.startswith("kernel http://127.0.0.1:8080/boot/files/debian/linux initrd=initrd.gz auto=true")
    assert "pureboot.token=" in kernel
    assert "initrd --name initrd.gz http://127.0.0.1:8080/boot/files/debian/initrd.gz" in script
    assert client.get("/api/v1/nodes/1").get_json()["state"] == "installing"


def test_local_boot_per_loader(client, db, workflow):
    node = register(client, MAC, workflow["id"])
    set_state(db, node["id"], "installed")
    ipxe = client.get(f"/boot/ipxe?mac={MAC}").get_data(as_text=True)
    assert "sanboot --no-describe --drive 0x80" in ipxe and "kernel " not in ipxe
    assert "iseq ${platform} efi && goto local_efi" in ipxe
    assert "chain http://127.0.0.1:8080/boot/files/grub/localboot-x64.efi" in ipxe
    pxelinux = client.get(f"/boot/pxelinux.cfg/01-{DASHED}").get_data(as_text=True)
    assert "LOCALBOOT 0" in pxelinux and "KERNEL" not in pxelinux
    grub = client.get(f"/boot/grub/grub.cfg-01-{DASHED}").get_data(as_text=True)
    assert "chainloader (hd0)+1" in grub and "search --no-floppy --file" in grub


def test_uefi_local_exit_mode(make_app, db, workflow):
    client = make_app(uefi_local_boot="exit").test_client()
    node = register(client, MAC)
    set_state(db, node["id"], "active")
    script = client.get(f"/boot/ipxe?mac={MAC}").get_data(as_text=True)
    assert ":local_efi\nexit" in script


def test_pxelinux_and_grub_install(client, workflow):
    register(client, MAC, workflow["id"])
    pxelinux = client.get(f"/boot/pxelinux.cfg/01-{DASHED}").get_data(as_text=True)
    assert "KERNEL http://127.0.0.1:8080/boot/files/debian/linux" in pxelinux
    assert "APPEND auto=true priority=critical pureboot.url=" in pxelinux
    grub = client.get(f"/boot/grub/grub.cfg-01-{DASHED}").get_data(as_text=True)
    assert "linux (http,127.0.0.1:8080)/boot/files/debian/linux auto=true" in grub


def test_unknown_config_names_are_404(client):
    for url in ("/boot/pxelinux.cfg/default", "/boot/pxelinux.cfg/C0A8", "/boot/grub/grub.cfg",
                "/boot/grub/grub.cfg-01-zz", "/boot/rpi/abc!/config.txt", "/boot/rpi/1234abcd/config.txt"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.get_json()["code"] == 404


def test_rpi_config_peeks_cmdline_checks_in(client, db, workflow):
    node = register(client, "dc:a6:32:00:00:01", workflow["id"], serial="1234abcd", platform="rpi")
    config = client.get("/boot/rpi/1234abcd/config.txt")
    assert config.status_code == 200
    assert "kernel=linux" in config.get_data(as_text=True)
    assert client.get(f"/api/v1/nodes/{node['id']}").get_json()["state"] == "pending"  # only looked
    cmdline = client.get("/boot/rpi/1234abcd/cmdline.txt").get_data(as_text=True)
    assert "pureboot.token=" in cmdline and cmdline.count("\n") == 1
    assert client.get(f"/api/v1/nodes/{node['id']}").get_json()["state"] == "installing"
    set_state(db, node["id"], "active")
    assert client.get("/boot/rpi/1234abcd/config.txt").status_code == 404  # next boot mode: SD


def test_boot_files_served_from_boot_files_dir(make_app, tmp_path):
    root = tmp_path / "files"
    (root / "grub").mkdir(parents=True)
    (root / "grub" / "localboot-x64.efi").write_bytes(b"MZ" + b"\0" * 100)
    client = make_app(boot_files_dir=str(root)).test_client()
    assert client.get("/boot/files/grub/localboot-x64.efi").data.startswith(b"MZ")
    assert client.get("/boot/files/../secret_key").status_code == 404


def test_values_cannot_inject_script_lines():
    spec = {"action": "install", "reason": "x\nchain http://evil", "node_id": 1, "kernel": "http://a/k\nshell",
            "initrd": None, "cmdline": "a; b"}
    from pureboot.boot.render import render
    script = render("ipxe", spec, base_url="http://c")
    assert "\nchain http://evil" not in script and "\nshell" not in script


def test_helpers():
    assert grub_url("http://10.0.0.1:8080/a/b") == "(http,10.0.0.1:8080)/a/b"
    assert "LOCALBOOT 0" in render_local("pxelinux", "controller down")
    assert ":local_efi\nexit" in render_local("ipxe", "controller down")
    assert "chain tftp://10.0.0.1/grub/localboot-x64.efi" in render_local("ipxe", "x", local_url="tftp://10.0.0.1/grub/localboot-x64.efi")
