"""Playbook workflows shared by the VM tests and bench/agent_deploy.py."""

#: Deploys the workflow's first template (variable ``pureboot_templates``) onto /dev/vda
#: with the collection's module, over SSH from the provisioning job; the ping task times
#: one SSH + module round trip on the agent.
DEPLOY_PLAYBOOK = """
- name: Deploy with the collection's modules, driven over SSH by the provisioning job
  hosts: all
  gather_facts: false
  tasks:
    - name: Reach the agent
      ansible.builtin.ping:
    - name: Read the node token (image downloads are in its scope)
      ansible.builtin.slurp:
        src: /run/pureboot/token
      register: node_token
      no_log: true
    - name: Deploy the image
      pureboot.pureboot.disk_image:
        url: "{{ pureboot_controller_url }}/api/v1/templates/{{ pureboot_templates[0] }}/content"
        dest: /dev/vda
        headers:
          Authorization: "Bearer {{ node_token.content | b64decode | trim }}"
"""
