"""The boot service (`pureboot boot`): proxy/full DHCP, TFTP, IPv6 RA; asks the controller over HTTP."""
