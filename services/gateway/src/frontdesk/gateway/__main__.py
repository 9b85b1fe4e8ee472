from frontdesk.gateway.app import SPEC
from frontdesk.kit.service import main

main(SPEC)
