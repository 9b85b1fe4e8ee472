from frontdesk.kit.service import main
from frontdesk.scheduling.app import SPEC

main(SPEC)
