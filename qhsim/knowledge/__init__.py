"""The knowledge and talent system 知识与人才系统 (MODEL.md §3-4; docs/ODD.md).

Universities and research institutes (Mesa agents), R&D personnel (a vectorised population), the technology
market, invention patents, platforms with incubators and spin-offs, and science literacy. ``KnowledgeSystem`` is
built by ``QinghaiModel`` and stepped once a year after firms' R&D is realised.
"""

from qhsim.knowledge.institutions import Institution, ResearchInstitute, University
from qhsim.knowledge.system import KnowledgeSystem
from qhsim.knowledge.talent import TalentPopulation

__all__ = ["KnowledgeSystem", "Institution", "University", "ResearchInstitute", "TalentPopulation"]
